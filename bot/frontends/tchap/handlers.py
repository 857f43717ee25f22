"""The listeners, one named function per surface, each taking the bot and the event's JSON.

- :func:`on_room_message`: a person's message. In a room, answered when it mentions the bot
  (in a thread rooted at the question) or is a ``!command``, or when it continues a form in
  its thread; in a DM, always. Never the bot's own messages, notices, edits, redactions, an
  event already handled, or a message older than the bot's start (minus a grace period).
- :func:`on_reaction`: 👍/👎 on one of the bot's answers, stored as a vote.
- :func:`on_invite`: join when invited (from an allowed homeserver); remember DMs.

Each one only decides; the work that waits on the homeserver runs in a task
(:meth:`TchapBot.spawn`) so that the sync loop never waits on it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from bot.frontends.tchap import render
from bot.frontends.tchap.eligibility import start_form
from bot.frontends.tchap.events import (
    Incoming,
    JsonDict,
    parse_command,
    question_text,
    read_message,
    server_of,
    vote_of,
    without_user_ids,
)

if TYPE_CHECKING:
    from bot.frontends.tchap.bot import TchapBot

log = logging.getLogger(__name__)

HELP = (
    "Je réponds aux questions sur le programme beta.gouv.fr (phases, FAST, consolidation, "
    "contacts, startups d'État), toujours avec le lien de la page qui le dit.\n"
    "- Dans un salon : mentionnez-moi avec votre question, je réponds dans un fil.\n"
    "- En message privé : écrivez simplement votre question.\n"
    "- !beta <question> : poser une question.\n"
    "- !eligibilite [programme] : vérifier une éligibilité (fast, consolidation, "
    "investigation...), une question par message dans le fil.\n"
    "- !aide : cette aide.\n"
    "Réagissez avec 👍 ou 👎 à une réponse pour dire si elle vous a aidé."
)
USAGE_BETA = "Usage : !beta <question>, par exemple : !beta combien dure l'investigation ?"
ERROR = "Désolé, une erreur m'empêche de répondre pour le moment. Réessayez dans un instant."


def on_room_message(bot: TchapBot, room_id: str, event: JsonDict) -> None:
    """A message in a room or DM (see the module docstring)."""
    if not bot.live or bot.too_old(event) or bot.before_join(room_id, event):
        return  # history: before this start, or before the bot joined the room
    incoming = read_message(
        event,
        room_id,
        bot_user_id=bot.user_id,
        display_name=bot.display_name,
        is_dm=bot.is_dm(room_id),
    )
    if incoming is None or not bot.seen.first_time(("message", incoming.event_id)):
        return
    bot.spawn(
        handle_message(bot, incoming, time.perf_counter()),
        name=f"message {room_id}/{incoming.event_id}",
    )


async def handle_message(bot: TchapBot, incoming: Incoming, received: float | None = None) -> None:
    """Decide what a person's message asks for and reply (in order within a conversation).
    ``received`` (perf_counter) is when the sync brought it, to time the bot's own share."""
    async with bot.lock_for(incoming.key):
        await _handle(bot, incoming)
    if received is not None:
        bot.timings.append((time.perf_counter() - received) * 1000)


async def _handle(bot: TchapBot, incoming: Incoming) -> None:
    text = question_text(incoming.body, bot.user_id, bot.display_name)
    command = parse_command(text)
    key = incoming.key
    form = bot.forms.get(key)
    if command is None and form is not None and form.person in ("", incoming.sender):
        messages = form.reply(text)
        bot.set_form(key, form)
        await send_texts(bot, incoming, messages)
        return
    if command is not None:
        name, rest = command
        if name == "aide":
            await send_texts(bot, incoming, [HELP])
        elif name == "eligibilite":
            await start_eligibility(bot, incoming, rest)
        elif not rest:
            await send_texts(bot, incoming, [USAGE_BETA])
        else:
            await reply_answer(bot, incoming, rest)
        return
    if not incoming.is_dm and not incoming.mentions:
        return  # chatter
    if not text:
        await send_texts(bot, incoming, [HELP])
        return
    await reply_answer(bot, incoming, text)


async def reply_answer(bot: TchapBot, incoming: Incoming, question: str) -> None:
    """The engine's answer, in the thread; recorded as answered or unanswered."""
    try:
        answer = bot.answer(incoming.key, question)
    except Exception:
        log.exception("the engine failed on a question")
        await send_texts(bot, incoming, [ERROR])
        return
    content = render.in_thread(render.render_answer(answer), incoming.reply_root, incoming.event_id)
    event_id = await bot.send(incoming.room_id, content)
    if event_id is None:
        return
    bot.remember_answer(event_id, without_user_ids(question), answer.source_id)
    if answer.answered:
        bot.record("record_answered", lambda records: records.record_answered(answer.source_id))
    else:
        unanswered = without_user_ids(question)
        bot.record("record_unanswered", lambda records: records.record_unanswered(unanswered))


async def start_eligibility(bot: TchapBot, incoming: Incoming, name: str) -> None:
    """``!eligibilite [programme]``: start the form in the thread (or list the schemes)."""
    form, messages = start_form(bot.engine.schemes, name)
    if form is not None:
        form.person = incoming.sender
    bot.set_form(incoming.key, form)
    await send_texts(bot, incoming, messages)


async def send_texts(bot: TchapBot, incoming: Incoming, texts: list[str]) -> None:
    for text in texts:
        content = render.in_thread(render.render_text(text), incoming.reply_root, incoming.event_id)
        await bot.send(incoming.room_id, content)


def on_reaction(bot: TchapBot, room_id: str, event: JsonDict) -> None:
    """👍/👎 on one of the bot's answers: one vote in the records (Slack's too)."""
    vote = vote_of(event, bot.user_id)
    if vote is None or not bot.seen.first_time(("reaction", event.get("event_id"))):
        return
    target, value = vote
    sent = bot.sent.get(target)
    if sent is None:
        return  # not one of our answers (or from before a restart)
    bot.record(
        "record_vote", lambda records: records.record_vote(sent.question, sent.source, value)
    )
    log.info("vote %+d on %s", value, sent.source)


def allowed(bot: TchapBot, inviter: str) -> bool:
    servers = bot.settings.tchap_allowed_servers
    return not servers or server_of(inviter) in servers


def on_invite(bot: TchapBot, room_id: str, event: JsonDict, content: JsonDict) -> None:
    """Join a room the bot is invited to (from an allowed homeserver); a DM is remembered."""
    if event.get("state_key") != bot.user_id or content.get("membership") != "invite":
        return
    inviter = str(event.get("sender") or "")
    if not bot.seen.first_time(("invite", room_id)):
        return
    if not allowed(bot, inviter):
        log.info("invitation to %s from %s refused (TCHAP_ALLOWED_SERVERS)", room_id, inviter)
        bot.spawn(_leave(bot, room_id), name=f"leave {room_id}")
        return
    if content.get("is_direct"):
        bot.mark_direct(room_id)
    bot.spawn(_join(bot, room_id), name=f"join {room_id}")


async def _join(bot: TchapBot, room_id: str) -> None:
    bot.joined_at[room_id] = bot.clock()
    resp = await bot.client.join(room_id)
    if getattr(resp, "room_id", None) != room_id:
        log.warning("could not join %s: %s", room_id, getattr(resp, "message", resp))
        bot.seen.forget(("invite", room_id))  # try again at the next invitation


async def _leave(bot: TchapBot, room_id: str) -> None:
    await bot.client.room_leave(room_id)
