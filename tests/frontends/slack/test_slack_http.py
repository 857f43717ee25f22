"""The bot over real HTTP: signed requests in, Slack Web API calls out (to a fake Slack).

Every test drives the real path: aiohttp server → Bolt (signature check, authorisation,
middleware, listeners) → engine → layouts → AsyncWebClient → the fake Slack on loopback.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest
from conftest_slack import (
    Q_DURATION,
    Q_DURATION_EN,
    Q_FAST_CONTACT,
    Q_OUT_OF_SCOPE,
    BotServer,
    RecordingRecords,
)
from slack_fakes import (
    BOT_ID,
    BOT_USER_ID,
    FakeSlack,
    SlackDriver,
    buttons,
    direct_message,
    mention,
    new_ts,
)

from bot.engine import Engine
from bot.frontends.slack.escape import WORD_JOINER, is_safe, unescape_mrkdwn

ACK_BUDGET_MS = 3000  # Slack's window


def readable(text: str) -> str:
    """What a person reads in Slack: entities decoded, invisible joiners dropped."""
    return unescape_mrkdwn(text).replace(WORD_JOINER, "")


def posted_text(call_args: dict) -> str:
    """The section texts and the fallback of a posted message, as a person reads them."""
    parts = [call_args.get("text", "")]
    for block in call_args.get("blocks", []):
        if block.get("type") == "section":
            parts.append(block["text"]["text"])
    return readable("\n".join(parts))


# --- verification -------------------------------------------------------------------------------


async def test_url_verification_echoes_the_challenge(slack: SlackDriver) -> None:
    body = json.dumps(
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    reply = await slack.post(body, "application/json")
    assert reply.status == 200
    assert reply.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_a_forged_signature_is_refused_with_401_and_nothing_is_posted(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    reply = await slack.event(mention(Q_DURATION), secret="not-the-signing-secret")
    assert reply.status == 401
    await bot_server.settle()
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_a_stale_signature_older_than_five_minutes_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    reply = await slack.event(mention(Q_DURATION), timestamp=int(time.time()) - 5 * 60 - 30)
    assert reply.status == 401
    future = await slack.event(mention(Q_DURATION), timestamp=int(time.time()) + 5 * 60 + 30)
    assert future.status == 401
    await bot_server.settle()
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_a_body_changed_after_signing_is_refused(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    from slack_fakes import SIGNING_SECRET, sign

    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": mention(Q_DURATION)})
    headers = sign(SIGNING_SECRET, body)
    tampered = body.replace(Q_DURATION, "quelle est la phase de construction")
    reply = await slack.post(tampered, "application/json", signed=False, headers=headers)
    assert reply.status == 401
    await bot_server.settle()
    assert fake_slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v1=deadbeef"},
        {"X-Slack-Request-Timestamp": str(int(time.time()))},
    ],
    ids=["no-headers", "non-numeric-timestamp", "huge-timestamp", "wrong-scheme", "no-signature"],
)
async def test_requests_without_a_well_formed_signature_get_401(
    slack: SlackDriver, headers: dict[str, str]
) -> None:
    reply = await slack.post(
        json.dumps({"type": "url_verification", "challenge": "c"}),
        "application/json",
        signed=False,
        headers=headers,
    )
    assert reply.status == 401


async def test_a_body_that_is_not_utf8_is_refused(
    slack: SlackDriver, bot_server: BotServer
) -> None:
    from slack_fakes import SIGNING_SECRET, sign

    raw = b'{"type": "url_verification", "challenge": "\xff\xfe"}'
    headers = {"Content-Type": "application/json", **sign(SIGNING_SECRET, raw)}
    async with slack.session.post(
        bot_server.url + "/slack/events", data=raw, headers=headers
    ) as resp:
        assert resp.status == 400


async def test_health_reports_ok_and_what_the_bot_knows(
    slack: SlackDriver, bot_server: BotServer
) -> None:
    async with slack.session.get(bot_server.url + "/health") as resp:
        assert resp.status == 200
        data = await resp.json()
    assert data["ok"] is True
    assert data["mode"] == "http"
    assert data["knowledge"]["pages"] == 2
    assert data["knowledge"]["sections"] >= 3
    assert data["knowledge"]["last_error"] is None


# --- mentions and direct messages ------------------------------------------------------------------


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_a_mention_is_answered_in_a_thread_on_the_message(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_engine: Engine
) -> None:
    event = mention(Q_DURATION)
    reply = await slack.event(event)
    assert reply.status == 200
    (call,) = await fake_slack.wait_for("chat.postMessage")
    assert call.args["channel"] == "C0GENERAL"
    assert call.args["thread_ts"] == event["ts"]
    assert call.headers["Authorization"] == "Bearer xoxb-1234-5678-test"
    expected = slack_engine.answer(Q_DURATION)
    assert expected.answered
    assert expected.text in posted_text(call.args)
    assert "beta.gouv.fr/approche/construction" in call.text_everywhere()


async def test_a_mention_inside_a_thread_is_answered_in_that_thread(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    parent = new_ts()
    await slack.event(mention(Q_DURATION, thread_ts=parent))
    (call,) = await fake_slack.wait_for("chat.postMessage")
    assert call.args["thread_ts"] == parent


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_a_direct_message_is_answered_in_the_conversation(
    slack: SlackDriver, fake_slack: FakeSlack, slack_engine: Engine
) -> None:
    await slack.event(direct_message(Q_DURATION_EN))
    (call,) = await fake_slack.wait_for("chat.postMessage")
    assert call.args["channel"] == "D0DIRECT1"
    assert "thread_ts" not in call.args or call.args["thread_ts"] is None
    answer = slack_engine.answer(Q_DURATION_EN)
    assert answer.lang == "en"
    assert answer.text in posted_text(call.args)
    # English question, English buttons
    labels = [b["accessibility_label"] for b in buttons(call.args["blocks"]).values()]
    assert "This answer helped me" in labels


@pytest.mark.parametrize(
    "event",
    [
        direct_message(Q_DURATION, user=BOT_USER_ID, bot_id=BOT_ID),
        direct_message(Q_DURATION, bot_id="BOTHER01", subtype="bot_message"),
        direct_message(Q_DURATION, subtype="message_changed"),
        direct_message(Q_DURATION, subtype="message_deleted"),
        direct_message(Q_DURATION, subtype="channel_join"),
        {**direct_message(Q_DURATION), "channel_type": "channel", "channel": "C0GENERAL"},
    ],
    ids=["own-message", "other-bot", "edit", "deletion", "join", "channel-message"],
)
async def test_bots_edits_deletions_and_channel_chatter_get_no_reply(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, event: dict
) -> None:
    reply = await slack.event(event)
    assert reply.status == 200  # acknowledged, so Slack does not retry
    await bot_server.settle()
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_an_empty_mention_gets_a_short_help(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.event(mention(""))
    (call,) = await fake_slack.wait_for("chat.postMessage")
    text = posted_text(call.args)
    assert "/beta" in text and "beta.gouv.fr" in text


async def test_a_huge_message_gets_a_clear_too_long_answer(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await slack.event(direct_message("construction " * 2000))
    assert reply.status == 200
    (call,) = await fake_slack.wait_for("chat.postMessage")
    assert "trop long" in posted_text(call.args)
    assert len(json.dumps(call.args)) < 10_000


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_an_unanswered_question_is_recorded_and_declined_honestly(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: RecordingRecords,
) -> None:
    await slack.event(mention(Q_OUT_OF_SCOPE))
    (call,) = await fake_slack.wait_for("chat.postMessage")
    await bot_server.settle()
    assert "contact@beta.gouv.fr" in posted_text(call.args)
    assert slack_records.unanswered == [Q_OUT_OF_SCOPE]
    assert buttons(call.args["blocks"]) == {}  # nothing to vote on when the bot declines


# --- never twice ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_slack_retries_of_one_event_get_one_reply(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    event = mention(Q_DURATION)
    replies = await asyncio.gather(
        slack.event(event, event_id="EvRETRY1"),
        slack.event(event, event_id="EvRETRY1", retry_num=1),
        slack.event(event, event_id="EvRETRY1", retry_num=2),
        slack.event(event, event_id="EvRETRY1", retry_num=3),
    )
    assert [r.status for r in replies] == [200, 200, 200, 200]
    await bot_server.settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_retry_of_an_event_never_received_is_answered(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.event(mention(Q_DURATION), event_id="EvLOST01", retry_num=1)
    assert len(await fake_slack.wait_for("chat.postMessage")) == 1


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_the_mention_and_message_pair_for_one_message_gets_one_reply(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    ts = new_ts()
    as_mention = mention(Q_DURATION, channel="D0DIRECT1", ts=ts)
    as_message = direct_message(f"<@{BOT_USER_ID}> {Q_DURATION}", ts=ts)
    await asyncio.gather(
        slack.event(as_mention, event_id="EvPAIR01"), slack.event(as_message, event_id="EvPAIR02")
    )
    await bot_server.settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_an_edit_that_refires_a_mention_gets_no_second_reply(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    event = mention(Q_DURATION)
    await slack.event(event)
    await fake_slack.wait_for("chat.postMessage")
    await slack.event(
        {**event, "text": event["text"] + " ?", "edited": {"user": "U0USER01", "ts": new_ts()}}
    )
    await bot_server.settle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_many_messages_each_get_exactly_one_reply_under_duplicates(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    sends = []
    for i in range(40):
        event = mention(Q_DURATION) if i % 2 else direct_message(Q_DURATION)
        eid = f"EvMANY{i:04d}"
        sends += [slack.event(event, event_id=eid), slack.event(event, event_id=eid, retry_num=1)]
    replies = await asyncio.gather(*sends)
    assert all(r.status == 200 for r in replies)
    await bot_server.settle()
    calls = fake_slack.calls_to("chat.postMessage")
    assert len(calls) == 40
    assert (
        len({(c.args["channel"], c.args.get("thread_ts"), c.text_everywhere()) for c in calls})
        >= 20
    )


# --- escaping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "<!channel> combien dure la construction ?",
        "<!here|here> @here @channel @everyone combien dure la construction",
        "<!subteam^S0123|@devs> <@U0OTHER1> combien dure la construction",
        "&lt;!everyone&gt; combien dure la construction",
        "_@here_ *@channel* combien dure la construction",
    ],
)
async def test_nothing_from_the_question_pings_anyone(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, question: str
) -> None:
    reply = await slack.command(question)  # /beta repeats the question above its answer
    body = reply.json()
    await slack.event(mention(question))
    (call,) = await fake_slack.wait_for("chat.postMessage")
    for payload in (call.args, body):
        for block in payload["blocks"]:
            for text in _texts(block):
                assert is_safe(_without_own_links(text)), text
        shown = json.dumps(_without_button_values(payload))  # values are data, never displayed
        assert "<!" not in shown
        assert "<@U0OTHER1>" not in shown


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_markup_and_mentions_inside_knowledge_files_reach_slack_inert(
    slack: SlackDriver, fake_slack: FakeSlack, slack_engine: Engine
) -> None:
    answer = slack_engine.answer(Q_FAST_CONTACT)
    assert "<b>" in answer.text and "@channel" in answer.text  # the fixture really carries markup
    await slack.event(mention(Q_FAST_CONTACT))
    (call,) = await fake_slack.wait_for("chat.postMessage")
    dumped = json.dumps(call.args, ensure_ascii=False)
    assert "<b>" not in dumped and "<!here>" not in dumped and "<programme>" not in dumped
    assert "&lt;b&gt;5 jours&lt;/b&gt;" in dumped
    assert "@\u2060channel" in dumped
    assert "fast@beta.gouv.fr" in dumped  # e-mail addresses stay usable
    assert answer.text in posted_text(call.args)


def _texts(block: dict) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(block)
    return found


def _without_button_values(node: object) -> object:
    if isinstance(node, dict):
        return {k: _without_button_values(v) for k, v in node.items() if k != "value"}
    if isinstance(node, list):
        return [_without_button_values(v) for v in node]
    return node


def _without_own_links(text: str) -> str:
    """Drop the bot's own <https://...|title> links so the rest can be checked."""
    import re

    return re.sub(r"<(?:https?://|mailto:)[^<>|]+\|[^<>]*>", "", text)


# --- /beta ---------------------------------------------------------------------------------------------


async def test_beta_answers_privately_at_once_with_a_button_to_share(
    slack: SlackDriver, slack_engine: Engine, fake_slack: FakeSlack
) -> None:
    reply = await slack.command(Q_DURATION)
    assert reply.status == 200
    assert reply.ms < ACK_BUDGET_MS
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert slack_engine.answer(Q_DURATION).text in posted_text(body)
    found = buttons(body["blocks"])
    assert {"feedback_up", "feedback_down", "share_answer"} <= set(found)
    assert fake_slack.calls_to("chat.postMessage") == []  # nothing public yet


async def test_beta_with_no_text_gives_a_short_help(slack: SlackDriver) -> None:
    for text in ("", "   ", "aide", "help"):
        body = (await slack.command(text)).json()
        assert body["response_type"] == "ephemeral"
        assert "/beta" in posted_text(body)


async def test_an_unknown_command_gets_a_clear_answer(slack: SlackDriver) -> None:
    reply = await slack.command("x", command="/betaa")
    assert reply.status == 200
    assert "Je ne connais pas la commande" in posted_text(reply.json())


async def test_sharing_posts_the_same_answer_in_the_channel_once(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer, slack_engine: Engine
) -> None:
    body = (await slack.command(Q_DURATION)).json()
    share = buttons(body["blocks"])["share_answer"]
    url = fake_slack.response_url("share")
    message_ts = new_ts()
    clicks = await asyncio.gather(
        *(
            slack.click(share, response_url=url, message_ts=message_ts, ephemeral=True)
            for _ in range(3)
        )
    )
    assert all(c.status == 200 for c in clicks)
    await bot_server.settle()
    (call,) = fake_slack.calls_to("response_url:share")
    assert call.args["response_type"] == "in_channel"
    assert call.args["delete_original"] is True
    assert slack_engine.answer(Q_DURATION).text in posted_text(call.args)
    assert "<@U0USER01>" in json.dumps(call.args)  # "shared by" names who posted it
    assert "share_answer" not in buttons(call.args["blocks"])


# --- feedback -----------------------------------------------------------------------------------------


async def test_a_thumbs_up_is_recorded_with_the_question_and_source_and_thanked(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: RecordingRecords,
) -> None:
    await slack.event(mention(Q_DURATION))
    (call,) = await fake_slack.wait_for("chat.postMessage")
    up = buttons(call.args["blocks"])["feedback_up"]
    assert up["accessibility_label"]
    reply = await slack.click(up, response_url=fake_slack.response_url("vote"))
    assert reply.status == 200
    await bot_server.settle()
    assert slack_records.votes == [(Q_DURATION, "phases/construction#duree", 1)]
    (thanks,) = fake_slack.calls_to("response_url:vote")
    assert thanks.args["response_type"] == "ephemeral"
    assert "Merci" in posted_text(thanks.args)


async def test_a_vote_clicked_twice_counts_once(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: RecordingRecords,
) -> None:
    body = (await slack.command(Q_DURATION)).json()
    down = buttons(body["blocks"])["feedback_down"]
    ts = new_ts()
    await slack.click(down, message_ts=ts, response_url=fake_slack.response_url("v1"))
    await slack.click(down, message_ts=ts, response_url=fake_slack.response_url("v2"))
    await bot_server.settle()
    assert slack_records.votes == [(Q_DURATION, "phases/construction#duree", -1)]
    assert "déjà" in posted_text(fake_slack.calls_to("response_url:v2")[0].args)


async def test_a_forged_button_value_is_ignored(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot_server: BotServer,
    slack_records: RecordingRecords,
) -> None:
    reply = await slack.click(
        {"action_id": "feedback_up", "value": "not json {"}, response_url=fake_slack.response_url()
    )
    assert reply.status == 200
    await bot_server.settle()
    assert slack_records.votes == []


async def test_an_unsigned_click_is_refused(
    slack: SlackDriver, bot_server: BotServer, slack_records: RecordingRecords
) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "actions": [{"action_id": "feedback_up", "value": '{"v":1,"s":"x","q":"y"}'}],
    }
    reply = await slack.post(
        urlencode({"payload": json.dumps(payload)}),
        "application/x-www-form-urlencoded",
        signed=False,
    )
    assert reply.status == 401
    await bot_server.settle()
    assert slack_records.votes == []


# --- App Home -------------------------------------------------------------------------------------------


async def test_opening_the_app_home_publishes_what_the_bot_knows(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    await slack.event(
        {
            "type": "app_home_opened",
            "user": "U0USER01",
            "channel": "D0DIRECT1",
            "tab": "home",
            "event_ts": new_ts(),
        }
    )
    (call,) = await fake_slack.wait_for("views.publish")
    assert call.args["user_id"] == "U0USER01"
    view = call.args["view"]
    assert view["type"] == "home"
    text = "\n".join(t for b in view["blocks"] for t in _texts(b))
    assert "/beta" in text and "/eligibilite" in text
    assert "La construction" in text


async def test_a_retried_app_home_event_publishes_once(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    event = {
        "type": "app_home_opened",
        "user": "U0USER01",
        "channel": "D0DIRECT1",
        "tab": "home",
        "event_ts": new_ts(),
    }
    await asyncio.gather(
        slack.event(event, event_id="EvHOME01"),
        slack.event(event, event_id="EvHOME01", retry_num=1),
    )
    await bot_server.settle()
    assert len(fake_slack.calls_to("views.publish")) == 1


async def test_opening_the_messages_tab_publishes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    await slack.event(
        {
            "type": "app_home_opened",
            "user": "U0USER01",
            "channel": "D0DIRECT1",
            "tab": "messages",
            "event_ts": new_ts(),
        }
    )
    await bot_server.settle()
    assert fake_slack.calls_to("views.publish") == []


async def test_an_event_the_bot_does_not_use_is_acknowledged(slack: SlackDriver) -> None:
    reply = await slack.event(
        {"type": "reaction_added", "user": "U0USER01", "reaction": "tada", "event_ts": new_ts()}
    )
    assert reply.status == 200


# --- Slack being difficult --------------------------------------------------------------------------------


async def test_a_rate_limited_reply_is_retried_after_retry_after_and_posted_once(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    fake_slack.fail("chat.postMessage", status=429, retry_after=1, times=1)
    start = time.monotonic()
    reply = await slack.event(mention(Q_DURATION))
    assert reply.status == 200 and reply.ms < ACK_BUDGET_MS  # the ack never waits on Slack
    await bot_server.settle()
    attempts = fake_slack.calls_to("chat.postMessage")
    assert len(attempts) == 2
    assert attempts[1].at - attempts[0].at >= 0.9
    assert time.monotonic() - start < 5


async def test_a_slack_api_error_on_reply_is_survived(
    slack: SlackDriver, fake_slack: FakeSlack, bot_server: BotServer
) -> None:
    fake_slack.fail("chat.postMessage", status=200, error="not_in_channel", retry_after=None)
    await slack.event(mention(Q_DURATION))
    await bot_server.settle()
    await slack.event(mention(Q_DURATION))
    await fake_slack.wait_for("chat.postMessage", count=2)


async def test_an_unexpected_error_in_a_command_is_answered_with_an_apology_not_slacks_error(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.frontends.slack.listeners.commands as slack_app_module

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(slack_app_module, "from_slack", broken)
    reply = await slack.command(Q_DURATION)
    assert reply.status == 200 and reply.ms < ACK_BUDGET_MS
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "Désolé" in posted_text(body)
    assert any("boom" in r.getMessage() for r in caplog.records)


# -- follow-ups in a thread (issue 13) ------------------------------------------------------------


@pytest.mark.parametrize("answer_workers", [0, 1], ids=["in-process", "worker"])
async def test_a_follow_up_in_the_thread_continues_its_subject(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    first = mention("c'est quoi la phase de construction ?")
    await slack.event(first)
    (call,) = await fake_slack.wait_for("chat.postMessage")
    assert "approche/construction" in call.text_everywhere()
    await slack.event(mention("et ça dure combien de temps ?", thread_ts=first["ts"]))
    calls = await fake_slack.wait_for("chat.postMessage", count=2)
    follow = calls[-1]
    assert follow.args["thread_ts"] == first["ts"]
    assert "approche/construction" in follow.text_everywhere()
    assert "mois" in posted_text(follow.args)


async def test_a_new_thread_is_answered_as_without_context(
    slack: SlackDriver, fake_slack: FakeSlack, slack_engine: Engine
) -> None:
    await slack.event(mention("c'est quoi la phase de construction ?"))
    await fake_slack.wait_for("chat.postMessage")
    await slack.event(mention("et pour l'investigation ?"))  # a new thread, not a follow-up
    calls = await fake_slack.wait_for("chat.postMessage", count=2)
    alone = slack_engine.answer("et pour l'investigation ?")
    assert alone.text in posted_text(calls[-1].args)
