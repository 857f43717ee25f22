"""Hostile but correctly signed requests (the reliability campaign's cases, issue 15).

Real Bolt over real aiohttp on loopback: every request gets an answer below 500, hostile input
leaves no traceback in the log (one warning line at most), and the acks stay prompt.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from conftest_slack import BotServer
from slack_fakes import TEAM_ID, FakeSlack, SlackDriver, event_envelope, new_ts

from bot.frontends.slack.server import body_problem


def mention_event(text: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": "U0USER01",
        "text": text,
        "channel": "C0GENERAL",
        "ts": new_ts(),
        **extra,
    }


JSON_BODIES = {
    "event_callback cut mid-JSON": '{"type": "event_callback", "event": {',
    "top-level array": "[1, 2, 3]",
    "top-level string": '"hello"',
    "top-level null": "null",
    "empty body": "",
    "event_callback without event": json.dumps({"type": "event_callback", "event_id": "EvNoEvent"}),
    "event is a list": json.dumps({"type": "event_callback", "event_id": "EvList", "event": [1]}),
    "event without type": json.dumps(event_envelope({"text": "x", "channel": "C0X"}, "EvNoType")),
    "mention without channel, ts, user": json.dumps(
        event_envelope({"type": "app_mention", "text": "fast"}, "EvBare")
    ),
    "mention text is a number": json.dumps(event_envelope(mention_event(42), "EvNum")),
    "mention text is a list": json.dumps(event_envelope(mention_event(["a"]), "EvList2")),
    "DM with channel null": json.dumps(
        event_envelope(
            {
                "type": "message",
                "channel_type": "im",
                "text": "fast",
                "user": "U1",
                "channel": None,
                "ts": new_ts(),
            },
            "EvNull",
        )
    ),
    "lone surrogates in text": json.dumps(
        event_envelope(mention_event("\ud800 fast \udfff"), "EvSur")
    ),
    "NUL in text": json.dumps(event_envelope(mention_event("fast\u0000\u0000"), "EvNul")),
}
FORM_BODIES = {
    "payload not JSON": "payload=%7Bnot-json",
    "payload is an array": "payload=%5B%5D",
    "payload is null": "payload=null",
    "neither payload nor command": "a=b&c=d",
    "payload without a type": "payload=%7B%7D",
}
PAYLOADS: list[dict[str, Any]] = [
    {"type": "block_actions"},
    {"type": "block_actions", "actions": []},
    {"type": "block_actions", "actions": None, "user": None},
    {"type": "block_actions", "actions": [{}], "user": {}},
    {"type": "block_actions", "actions": [{"action_id": "feedback_up"}], "container": None},
    {
        "type": "block_actions",
        "actions": [{"action_id": "eligibility_pick", "selected_option": None}],
        "user": {"id": "U1"},
    },
    {
        "type": "block_actions",
        "actions": [{"action_id": "eligibility_pick", "selected_option": {"value": "../../etc"}}],
        "user": {"id": "U1"},
    },
    {"type": "block_actions", "actions": "feedback_up"},
    {"type": "shortcut", "callback_id": "x"},
    {"type": "message_action", "callback_id": "x"},
    {"type": "block_suggestion", "action_id": "x", "value": "a"},
    {"type": "view_closed", "view": {"callback_id": "eligibility_check"}},
    {
        "type": "view_submission",
        "user": {"id": "U0USER01"},
        "view": {"callback_id": "eligibility_check"},
    },
    {"type": "view_submission", "user": {"id": "U0USER01"}},
    {"type": "view_submission", "user": {"id": "U0USER01"}, "view": None},
    {
        "type": "view_submission",
        "user": {"id": "U0USER01"},
        "view": {"type": "modal", "callback_id": None, "state": []},
    },
    {"type": "unknown_type_42"},
]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


async def test_malformed_bodies_get_a_400_and_no_traceback(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    statuses = {}
    for name, body in JSON_BODIES.items():
        statuses[name] = (await slack.post(body, "application/json")).status
    for name, body in FORM_BODIES.items():
        statuses[name] = (await slack.post(body, "application/x-www-form-urlencoded")).status
    assert all(status < 500 for status in statuses.values()), statuses
    for name in (
        "event_callback cut mid-JSON",
        "top-level array",
        "top-level string",
        "top-level null",
        "event is a list",
        "payload not JSON",
        "payload is an array",
        "payload is null",
    ):
        assert statuses[name] == 400, (name, statuses[name])
    assert tracebacks(caplog) == []


async def test_unknown_interaction_shapes_are_acknowledged_and_ignored(
    slack: SlackDriver,
    bot_server: BotServer,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    statuses = []
    for payload in PAYLOADS:
        reply = await slack.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
        statuses.append((payload.get("type"), str(payload)[:60], reply.status, round(reply.ms)))
    await bot_server.settle()
    assert [s for s in statuses if s[2] != 200] == [], statuses
    assert tracebacks(caplog) == []


async def test_a_forged_shape_check_still_refuses_forged_signatures(slack: SlackDriver) -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})})
    reply = await slack.post(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    assert reply.status == 401


async def test_a_pick_with_a_garbage_value_and_no_response_url_is_acknowledged_at_once(
    slack: SlackDriver, bot_server: BotServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    payload = {
        "type": "block_actions",
        "user": {"id": "U0USER01", "team_id": TEAM_ID},
        "team": {"id": TEAM_ID},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": new_ts(), "channel_id": "C0GENERAL"},
        "actions": [
            {
                "action_id": "eligibility_pick",
                "type": "static_select",
                "block_id": "b",
                "selected_option": {"value": "pas-un-dispositif"},
                "action_ts": new_ts(),
            }
        ],
    }
    reply = await slack.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    await bot_server.settle()
    assert reply.status == 200
    assert tracebacks(caplog) == []
    assert not any("didn't call ack" in r.getMessage() for r in caplog.records)


async def test_a_huge_eligibilite_text_is_cut_before_anything_reads_it(
    slack: SlackDriver, bot_server: BotServer
) -> None:
    for unit in ("<@U1 ", "<!channel", "a"):
        text = (unit * (20_000 // len(unit) + 1))[:20_000]
        reply = await slack.command(text, command="/eligibilite")
        assert reply.status == 200
        assert reply.json() is not None  # the scheme picker, asking which scheme


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("[1]", "application/json", "not a JSON object"),
        ('{"type": "event_callback", "event": [1]}', "application/json", "event"),
        ("payload=%5B%5D", "application/x-www-form-urlencoded", "not a JSON object"),
        ('{"type": "url_verification", "challenge": "x"}', "application/json", None),
        ("command=%2Fbeta&text=fast", "application/x-www-form-urlencoded", None),
    ],
)
def test_body_problem_names_what_is_wrong(
    body: str, content_type: str, expected: str | None
) -> None:
    problem = body_problem(body, content_type)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem
