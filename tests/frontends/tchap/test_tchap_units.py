"""The Tchap front end's parts, directly: reading events, the Matrix renderer, the eligibility
form, the listeners (with the bot's sending recorded), the settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.answering.answer import Answer, Link
from bot.engine import Engine
from bot.errors import SettingsError
from bot.frontends.tchap import handlers, render
from bot.frontends.tchap.bot import TchapBot
from bot.frontends.tchap.eligibility import start_form
from bot.frontends.tchap.events import (
    conversation_key,
    mentions_bot,
    parse_command,
    question_text,
    read_message,
    vote_of,
    without_user_ids,
)
from bot.settings import Settings

BOT = "@beta-bot:agent.tchap.gouv.fr"


def message(body: str, **content: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": "$q1",
        "sender": "@alice:agent.tchap.gouv.fr",
        "origin_server_ts": 0,
        "content": {"msgtype": "m.text", "body": body, **content},
    }


def read(event: dict[str, Any], *, dm: bool = False) -> Any:
    return read_message(event, "!room", bot_user_id=BOT, display_name="Bot Beta", is_dm=dm)


# -- reading events -------------------------------------------------------------------------


def test_a_mention_is_found_in_m_mentions_the_id_the_display_name_or_a_pill() -> None:
    assert mentions_bot({"body": "x", "m.mentions": {"user_ids": [BOT]}}, BOT, None)
    assert mentions_bot({"body": f"{BOT} c'est quoi ?"}, BOT, None)
    assert mentions_bot({"body": "Bot Beta: c'est quoi ?"}, BOT, "Bot Beta")
    assert mentions_bot(
        {"body": "x", "formatted_body": f'<a href="https://matrix.to/#/{BOT}">Bot</a> ?'}, BOT, None
    )
    assert not mentions_bot({"body": "j'adore beta.gouv.fr"}, BOT, "Bot Beta")
    assert not mentions_bot({"body": "> <@x:y> Bot Beta\n\nmerci"}, BOT, "Bot Beta")


def test_the_question_loses_the_mention_and_the_reply_fallback() -> None:
    assert question_text("Bot Beta : c'est quoi le FAST ?", BOT, "Bot Beta") == (
        "c'est quoi le FAST ?"
    )
    assert question_text(f"{BOT} combien ?", BOT, None) == "combien ?"
    assert question_text("> <@a:b> avant\n\nla vraie question", BOT, None) == "la vraie question"


def test_what_the_bot_must_not_answer() -> None:
    assert read(message("salut")) is not None
    own = message("salut")
    own["sender"] = BOT
    assert read(own) is None
    assert read(message("bip", msgtype="m.notice")) is None  # other bots
    edit = message("* corrigé", **{"m.new_content": {"body": "corrigé"}})
    edit["content"]["m.relates_to"] = {"rel_type": "m.replace", "event_id": "$old"}
    assert read(edit) is None
    redacted = message("x")
    redacted["unsigned"] = {"redacted_because": {}}
    assert read(redacted) is None
    assert read(message("   ")) is None
    assert read({"type": "m.room.message", "content": "nonsense"}) is None


def test_conversations_are_keyed_by_room_and_thread_root_or_by_dm_room() -> None:
    in_room = read(message("Bot Beta quoi ?"))
    assert in_room.key == ("!room", "$q1") and in_room.reply_root == "$q1"
    threaded = read(
        message("suite", **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}})
    )
    assert threaded.key == ("!room", "$root") and threaded.reply_root == "$root"
    dm = read(message("quoi ?"), dm=True)
    assert dm.key == ("!room",) and dm.reply_root is None
    assert conversation_key("!r", True, "$e", "$t") == ("!r",)


def test_commands() -> None:
    assert parse_command("!beta combien ?") == ("beta", "combien ?")
    assert parse_command("!Éligibilité fast") == ("eligibilite", "fast")
    assert parse_command("!aide") == ("aide", "")
    assert parse_command("/beta x") is None and parse_command("!inconnu") is None


def test_votes_are_thumbs_on_an_event() -> None:
    def reaction(key: str, sender: str = "@a:b") -> dict[str, Any]:
        return {
            "type": "m.reaction",
            "sender": sender,
            "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$a", "key": key}},
        }

    assert vote_of(reaction("👍"), BOT) == ("$a", 1)
    assert vote_of(reaction("👎🏽"), BOT) == ("$a", -1)
    assert vote_of(reaction("🎉"), BOT) is None
    assert vote_of(reaction("👍", sender=BOT), BOT) is None


def test_matrix_ids_are_not_stored() -> None:
    assert "alice" not in without_user_ids("demande à @alice:agent.tchap.gouv.fr le FAST")


# -- rendering ------------------------------------------------------------------------------


def test_an_answer_renders_emphasis_links_and_escapes_everything() -> None:
    answer = Answer(
        question="q",
        answered=True,
        intent="x",
        text="La *construction* <dure> @room & plus",
        links=(Link("https://beta.gouv.fr/a?b=1&c=2", "Page <A>"), Link("https://x.fr", "B")),
    )
    content = render.render_answer(answer)
    html = content["formatted_body"]
    assert "<strong>construction</strong>" in html
    assert "&lt;dure&gt;" in html and "&amp; plus" in html
    assert '<a href="https://beta.gouv.fr/a?b=1&amp;c=2">Page &lt;A&gt;</a>' in html
    assert '<li><a href="https://x.fr">B</a></li>' in html
    assert "@room" not in content["body"] and "@room" not in html
    assert "*" not in content["body"]
    assert content["m.mentions"] == {} and content["format"] == "org.matrix.custom.html"


def test_a_link_that_is_not_http_is_not_a_link() -> None:
    assert "href" not in render.link_html(Link("javascript:alert(1)", "x"))


def test_in_thread_places_the_reply() -> None:
    content = render.in_thread(render.render_text("x"), "$root", "$q")
    assert content["m.relates_to"]["rel_type"] == "m.thread"
    assert content["m.relates_to"]["event_id"] == "$root"
    assert content["m.relates_to"]["m.in_reply_to"] == {"event_id": "$q"}
    assert "m.relates_to" not in render.in_thread(render.render_text("x"), None)


# -- the eligibility form -------------------------------------------------------------------


def test_the_form_asks_one_criterion_per_message_then_gives_the_verdict(engine: Engine) -> None:
    form, first = start_form(engine.schemes, "fast")
    assert form is not None and len(first) == 2 and "[1/" in first[1]
    total = len(form.criteria)
    help_reply = form.reply("?")[0]
    assert form.criteria[0].source in help_reply and "[1/" in help_reply
    assert form.position == 0  # help does not move on
    last: list[str] = []
    for _ in range(total):
        last = form.reply("oui")
    assert form.done and "Éligible" in last[-1]
    assert "/eligibilite" not in last[-1]


def test_the_form_stops_on_q_and_counts_no_after_three_unreadable_replies(engine: Engine) -> None:
    form, _ = start_form(engine.schemes, "fast")
    assert form is not None
    form.reply("bof")
    form.reply("bof")
    assert "non" in form.reply("bof")[0] and form.position == 1
    assert form.reply("q") == ["Vérification arrêtée : aucun verdict."] and form.done


def test_an_unknown_scheme_lists_the_schemes(engine: Engine) -> None:
    form, messages = start_form(engine.schemes, "tarte")
    assert form is None and "« tarte »" in messages[0] and "!eligibilite fast" in messages[0]


# -- the listeners, with the bot's sending recorded -------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.votes: list[tuple[str, str | None, int]] = []
        self.unanswered: list[str] = []
        self.answered: list[str | None] = []

    def record_vote(self, question: str, source: str | None, vote: int) -> None:
        self.votes.append((question, source, vote))

    def record_unanswered(self, question: str) -> None:
        self.unanswered.append(question)

    def record_answered(self, source: str | None = None) -> None:
        self.answered.append(source)


@pytest.fixture
def bot(engine: Engine, tmp_path: Path) -> tuple[TchapBot, list[tuple[str, dict[str, Any]]]]:
    settings = Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path),
            "TCHAP_HOMESERVER": "http://127.0.0.1:9",
            "TCHAP_USER": BOT,
            "TCHAP_PASSWORD": "x",
        }
    )
    tchap = TchapBot(settings, engine, Recorder())
    tchap.display_name = "Bot Beta"
    tchap.live = True
    sent: list[tuple[str, dict[str, Any]]] = []

    async def send(room_id: str, content: dict[str, Any]) -> str:
        sent.append((room_id, content))
        return f"$answer{len(sent)}"

    tchap.send = send  # type: ignore[method-assign]
    return tchap, sent


async def test_handle_message_answers_a_mention_and_records_it(bot: Any) -> None:
    tchap, sent = bot
    await handlers.handle_message(tchap, read(message("Bot Beta combien dure la construction ?")))
    room, content = sent[0]
    assert room == "!room" and content["m.relates_to"]["event_id"] == "$q1"
    assert tchap.records.answered
    other = dict(message("Bot Beta quel est le numéro de Jean ?"), event_id="$q2")  # new thread
    await handlers.handle_message(tchap, read(other))
    assert tchap.records.unanswered


async def test_handle_message_ignores_chatter_and_answers_dms(bot: Any) -> None:
    tchap, sent = bot
    await handlers.handle_message(tchap, read(message("on déjeune ?")))
    assert sent == []
    await handlers.handle_message(tchap, read(message("c'est quoi le FAST ?"), dm=True))
    assert len(sent) == 1 and "m.relates_to" not in sent[0][1]


async def test_a_thumbs_up_on_an_answer_is_a_vote(bot: Any) -> None:
    tchap, _ = bot
    await handlers.handle_message(tchap, read(message("Bot Beta c'est quoi le FAST ?")))
    reaction = {
        "type": "m.reaction",
        "event_id": "$r",
        "sender": "@alice:x",
        "content": {
            "m.relates_to": {"rel_type": "m.annotation", "event_id": "$answer1", "key": "👍"}
        },
    }
    handlers.on_reaction(tchap, "!room", reaction)
    handlers.on_reaction(tchap, "!room", reaction)  # the same event twice: one vote
    assert [v[2] for v in tchap.records.votes] == [1]


async def test_old_messages_and_duplicates_are_not_answered(bot: Any) -> None:
    tchap, _ = bot
    old = message("c'est quoi ?")
    assert tchap.too_old(old)  # origin_server_ts 0
    tchap.live = False
    handlers.on_room_message(tchap, "!room", message("Bot Beta ?") | {"origin_server_ts": 10**13})
    assert not tchap.tasks


def test_invites_from_other_servers_are_refused(engine: Engine, tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path),
            "TCHAP_HOMESERVER": "http://127.0.0.1:9",
            "TCHAP_USER": BOT,
            "TCHAP_ACCESS_TOKEN": "t",
            "TCHAP_ALLOWED_SERVERS": "agent.tchap.gouv.fr, Agent.Dinum.Tchap.gouv.fr",
        }
    )
    tchap = TchapBot(settings, engine)
    assert handlers.allowed(tchap, "@a:agent.dinum.tchap.gouv.fr")
    assert not handlers.allowed(tchap, "@a:matrix.org")


# -- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "TCHAP_HOMESERVER"),
        ({"TCHAP_HOMESERVER": "https://h"}, "TCHAP_USER"),
        ({"TCHAP_HOMESERVER": "https://h", "TCHAP_USER": "bot"}, "TCHAP_USER"),
        ({"TCHAP_HOMESERVER": "https://h", "TCHAP_USER": "@bot:h"}, "TCHAP_PASSWORD"),
        ({"TCHAP_HOMESERVER": "h"}, "TCHAP_HOMESERVER"),
    ],
)
def test_settings_errors_name_the_missing_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env).require_tchap()


def test_python_m_bot_tchap_without_settings_says_which_variable(run_bot: Any) -> None:
    out = run_bot("tchap")
    assert out.returncode == 1
    assert "TCHAP_HOMESERVER" in out.stderr and "Traceback" not in out.stderr


async def test_an_unreachable_homeserver_is_a_clear_error(engine: Engine, tmp_path: Path) -> None:
    from matrix_homeserver import free_port

    from bot.frontends.tchap.bot import TchapError

    settings = Settings.from_env(
        {
            "BOT_DATA_DIR": str(tmp_path),
            "TCHAP_HOMESERVER": f"http://127.0.0.1:{free_port()}",
            "TCHAP_USER": BOT,
            "TCHAP_PASSWORD": "x",
        }
    )
    tchap = TchapBot(settings, engine)
    try:
        with pytest.raises(TchapError, match="cannot reach TCHAP_HOMESERVER"):
            await tchap.start(login_timeout=0.5)
    finally:
        await tchap.client.close()


async def test_only_the_person_who_started_the_form_fills_it(bot: Any) -> None:
    tchap, sent = bot
    await handlers.handle_message(tchap, read(message("!eligibilite fast")))
    asked = len(sent)
    other = message("oui", **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$q1"}})
    other["sender"] = "@bob:agent.tchap.gouv.fr"
    other["event_id"] = "$bob"
    await handlers.handle_message(tchap, read(other))
    assert len(sent) == asked and tchap.forms[("!room", "$q1")].position == 0
    mine = message("oui", **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$q1"}})
    mine["event_id"] = "$alice2"
    await handlers.handle_message(tchap, read(mine))
    assert len(sent) == asked + 1 and "[2/" in sent[-1][1]["body"]
