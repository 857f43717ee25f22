"""The Tchap front end end to end: ``python -m bot tchap`` on a real Synapse, a real matrix-nio
client as the community member (rooms, DMs, an encrypted DM, the eligibility form, votes,
restarts of the bot and of the homeserver)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bot_process import BotProcess
from matrix_homeserver import Synapse
from matrix_member import Member, in_thread_of, wait_in_thread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def member(synapse: Synapse, tmp_path: Path, name: str) -> Member:
    user_id = synapse.user_id(name)
    return Member(synapse.url, user_id, synapse.users[user_id], tmp_path / f"{name}-store")


def body(ev: dict[str, Any]) -> str:
    return str(ev.get("content", {}).get("body", ""))


def html(ev: dict[str, Any]) -> str:
    return str(ev.get("content", {}).get("formatted_body", ""))


async def room_with_bot(alice: Member, bot: BotProcess) -> str:
    room = await alice.create_room([bot.user_id])
    await alice.wait_joined(room, bot.user_id)
    return room


async def new_reply(
    who: Member, room: str, bot: BotProcess, *seen: dict[str, Any]
) -> dict[str, Any]:
    """The bot's next message in ``room`` that is none of the replies already ``seen``."""
    ids = {ev["event_id"] for ev in seen}
    return await who.wait_for(
        lambda r, ev: r == room and ev.get("sender") == bot.user_id and ev["event_id"] not in ids
    )


async def ask(alice: Member, room: str, bot: BotProcess, question: str, **kw: Any) -> str:
    """``beta-bot <question>`` mentioning the bot; the event id of the question."""
    return await alice.send(room, f"beta-bot {question}", mention=bot.user_id, **kw)


async def test_mention_is_answered_in_a_thread_with_an_html_link_and_chatter_is_not(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    async with member(synapse, tmp_path, "alice") as alice:
        room = await room_with_bot(alice, tchap_bot)
        chatter = await alice.send(room, "Bonjour à tous, réunion à 14 h ?")
        question = await ask(alice, room, tchap_bot, "combien dure la construction ?")
        answer = await alice.wait_for(lambda r, ev: r == room and in_thread_of(question)(ev))
        assert answer["sender"] == tchap_bot.user_id
        assert "construction" in body(answer).lower()
        assert '<a href="https://beta.gouv.fr' in html(answer)
        assert answer["content"]["format"] == "org.matrix.custom.html"
        assert answer["content"]["m.mentions"] == {}
        # the chatter, written before the question, got nothing
        bot_events = alice.from_user(tchap_bot.user_id, room)
        assert not [ev for ev in bot_events if in_thread_of(chatter)(ev)]
        assert len(bot_events) == 1

        # a follow-up in the thread that mentions the bot is answered in the same thread
        follow = await ask(alice, room, tchap_bot, "et l'investigation ?", thread=question)
        second = await alice.wait_for(
            lambda r, ev: (
                ev.get("sender") == tchap_bot.user_id
                and in_thread_of(question)(ev)
                and ev["event_id"] != answer["event_id"]
            )
        )
        assert second["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == follow
        # the thread is a conversation: the follow-up keeps the question's facet (a duration)
        assert "semaines" in body(second) or "mois" in body(second)
        assert "investigation" in html(second)


async def test_what_was_written_before_the_bot_joined_is_not_answered(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    async with member(synapse, tmp_path, "alice") as alice:
        room = await alice.create_room([])
        before = await ask(alice, room, tchap_bot, "c'est quoi le FAST ?")
        await alice.client.room_invite(room, tchap_bot.user_id)
        await alice.wait_joined(room, tchap_bot.user_id)
        after = await ask(alice, room, tchap_bot, "c'est quoi le FAST ?")
        await wait_in_thread(alice, after)
        assert not [
            ev for ev in alice.from_user(tchap_bot.user_id, room) if in_thread_of(before)(ev)
        ]


async def test_a_dm_is_answered_without_a_mention(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    async with member(synapse, tmp_path, "bob") as bob:
        room = await bob.create_room([tchap_bot.user_id], direct=True)
        await bob.wait_joined(room, tchap_bot.user_id)
        await bob.send(room, "c'est quoi le FAST ?")
        answer = await bob.wait_for(lambda r, ev: r == room)
        assert answer["sender"] == tchap_bot.user_id
        assert "FAST" in body(answer)
        assert "m.relates_to" not in answer["content"]  # a DM is answered in the conversation
        assert "<a href=" in html(answer)

        # the DM is a conversation: a follow-up that names nothing continues its subject
        await bob.send(room, "c'est quoi la phase d'accélération ?")
        first = await new_reply(bob, room, tchap_bot, answer)
        assert "accélération" in body(first)
        await bob.send(room, "et ça dure combien de temps ?")
        follow = await new_reply(bob, room, tchap_bot, answer, first)
        assert "12 mois" in body(follow)  # alone, this question is declined


async def test_an_encrypted_dm_is_decrypted_and_answered_encrypted(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    async with member(synapse, tmp_path, "alice") as alice:
        room = await alice.create_room([tchap_bot.user_id], direct=True, encrypted=True)
        await alice.wait_joined(room, tchap_bot.user_id)
        await alice.wait_devices(room, tchap_bot.user_id)
        await alice.send(room, "qui contacter pour le FAST ?")
        answer = await alice.wait_for(lambda r, ev: r == room)
        assert answer["sender"] == tchap_bot.user_id
        assert answer["type"] == "m.room.message"  # decrypted by the member's client
        assert alice.client.rooms[room].encrypted
        assert "fast" in body(answer).lower()
        # what went over the wire was encrypted
        raw = synapse.request(
            "GET",
            f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=20",
            synapse.login(alice.user_id),
        )
        from_bot = [
            ev for ev in raw["chunk"] if ev["sender"] == tchap_bot.user_id and "state_key" not in ev
        ]
        assert from_bot and all(ev["type"] == "m.room.encrypted" for ev in from_bot)


async def test_eligibilite_fast_reaches_a_verdict_in_the_thread(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    async with member(synapse, tmp_path, "alice") as alice:
        room = await room_with_bot(alice, tchap_bot)
        root = await alice.send(room, "!eligibilite fast")
        in_thread = in_thread_of(root)
        intro = await alice.wait_for(lambda r, ev: in_thread(ev))
        assert "FAST" in body(intro)
        seen = 0
        replies = ["?", "peut-être", "oui"]  # help, a reply it cannot read, then yes to all
        for _ in range(40):
            question = await alice.wait_for(
                lambda r, ev: (
                    in_thread(ev) and ("(oui/non/?/q)" in body(ev) or "Source" in body(ev))
                ),
                start=seen,
            )
            seen = alice.received.index(next(x for x in alice.received if x[1] is question)) + 1
            if "(oui/non/?/q)" not in body(question):
                break
            await alice.send(room, replies.pop(0) if replies else "oui", thread=root)
        else:
            raise AssertionError("the form never ended")
        verdict = body(question)
        assert "Éligible" in verdict, verdict
        assert '<a href="https://' in html(question)
        # the thread is free again: "oui" now is chatter
        after = await ask(alice, room, tchap_bot, "merci !", thread=root)
        reply = await alice.wait_for(lambda r, ev: in_thread(ev), start=seen)
        assert reply["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == after


async def test_user_text_is_escaped_and_never_pings(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    async with member(synapse, tmp_path, "alice") as alice:
        room = await room_with_bot(alice, tchap_bot)
        root = await alice.send(room, "!eligibilite @room <b>x</b> @bob:localhost")
        reply = await wait_in_thread(alice, root)
        assert "@room" not in body(reply) and "@room" not in html(reply)
        assert "@\u2060room" in body(reply)
        assert "&lt;b&gt;x&lt;/b&gt;" in html(reply) and "<b>" not in html(reply)
        assert "@bob:localhost" not in html(reply)
        assert reply["content"]["m.mentions"] == {}


async def test_a_thumbs_up_shows_in_the_report(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    import asyncio

    async with member(synapse, tmp_path, "alice") as alice:
        room = await room_with_bot(alice, tchap_bot)
        question = await ask(alice, room, tchap_bot, "combien dure l'investigation ?")
        answer = await wait_in_thread(alice, question)
        await alice.react(room, answer["event_id"], "👍")
        for _ in range(100):
            report = tchap_bot.report()
            if "Avis : 1 utile(s)" in report:
                break
            await asyncio.sleep(0.2)
        assert "Avis : 1 utile(s), 0 pas utile(s)" in report, report


async def test_after_a_restart_nothing_old_is_answered_again(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    async with member(synapse, tmp_path, "alice") as alice:
        room = await room_with_bot(alice, tchap_bot)
        first = await ask(alice, room, tchap_bot, "c'est quoi l'accélération ?")
        await wait_in_thread(alice, first)
        assert tchap_bot.stop() == 0
        during = await ask(alice, room, tchap_bot, "c'est quoi le transfert ?")
        tchap_bot.start()
        after = await ask(alice, room, tchap_bot, "qui sont les intrapreneurs ?")
        await wait_in_thread(alice, after)
        await wait_in_thread(alice, during)  # asked while it was down
        token = synapse.login(alice.user_id)
        raw = synapse.request(
            "GET", f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=50", token
        )
        answers: dict[str, int] = {}
        for ev in raw["chunk"]:
            rel = ev.get("content", {}).get("m.relates_to") or {}
            if ev["sender"] == tchap_bot.user_id and "state_key" not in ev:
                answers[rel.get("event_id", "")] = answers.get(rel.get("event_id", ""), 0) + 1
        assert answers == {first: 1, during: 1, after: 1}


async def test_rate_limited_replies_are_retried_after_retry_after_ms(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    admin = synapse.login(synapse.user_id("admin"))
    path = f"/_synapse/admin/v1/users/{tchap_bot.user_id}/override_ratelimit"
    synapse.request("POST", path, admin, {"messages_per_second": 2, "burst_count": 1})
    try:
        async with member(synapse, tmp_path, "alice") as alice:
            room = await room_with_bot(alice, tchap_bot)
            asked = [
                await ask(alice, room, tchap_bot, q)
                for q in (
                    "c'est quoi le FAST ?",
                    "combien dure la construction ?",
                    "c'est quoi la consolidation ?",
                    "qui contacter ?",
                )
            ]
            for event_id in asked:
                await wait_in_thread(alice, event_id)
    finally:
        synapse.request("DELETE", path, admin)
    assert "ratelimited" in tchap_bot.output()


async def test_the_bot_reconnects_after_the_homeserver_restarts(
    synapse: Synapse, tchap_bot: BotProcess, tmp_path: Path
) -> None:
    before = len(tchap_bot.output())
    synapse.restart()
    async with member(synapse, tmp_path, "alice") as alice:
        room = await room_with_bot(alice, tchap_bot)
        question = await ask(alice, room, tchap_bot, "combien dure la construction ?")
        answer = await wait_in_thread(alice, question)
        assert answer["sender"] == tchap_bot.user_id
    assert tchap_bot.process is not None and tchap_bot.process.poll() is None
    lost = tchap_bot.output()[before:]
    assert "Timed out" in lost or "sync failed" in lost  # it did lose the homeserver


async def test_login_with_an_access_token_and_a_refused_password(
    synapse: Synapse, engine: Any, tmp_path: Path
) -> None:
    from bot.frontends.tchap.bot import TchapBot, TchapError
    from bot.settings import Settings

    user_id = synapse.user_id("bob")
    base = {"TCHAP_HOMESERVER": synapse.url, "TCHAP_USER": user_id}
    token = synapse.login(user_id)
    settings = Settings.from_env(
        base | {"BOT_DATA_DIR": str(tmp_path / "a"), "TCHAP_ACCESS_TOKEN": token}
    )
    bot = TchapBot(settings, engine)
    try:
        await bot.login()
        assert bot.client.device_id and bot.client.access_token == token
    finally:
        await bot.client.close()
    settings = Settings.from_env(
        base | {"BOT_DATA_DIR": str(tmp_path / "b"), "TCHAP_PASSWORD": "faux"}
    )
    bot = TchapBot(settings, engine)
    try:
        with pytest.raises(TchapError, match="TCHAP_PASSWORD"):
            await bot.login()
    finally:
        await bot.client.close()
