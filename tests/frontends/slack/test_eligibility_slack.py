"""/eligibilite end to end: the bot served over real HTTP on loopback (bot.frontends.slack.app +
bot.frontends.slack.server), v0-signed requests the way Slack sends them (a slash command, then a
view_submission of the form the bot opened), and Slack's Web API replaced by the recording
fake of ``slack_fakes``. Every request must be acknowledged well inside 3 seconds."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_fakes import BOT_ID, TEAM_ID, FakeSlack, Reply, SlackDriver

from bot.settings import Settings

ACK_LIMIT_MS = 3000.0
USER = "U0USER01"
TRIGGER = "13345224609.738474920.8088930838d88f008e0"


@pytest.fixture
async def server(slack_settings: Settings, engine: Any) -> AsyncIterator[Any]:
    """The real Slack front end over the project's knowledge (schemes included)."""
    from bot.frontends.slack.app import create_app
    from bot.frontends.slack.server import create_web_app

    slack_app = create_app(slack_settings, engine)
    web_app = create_web_app(slack_app, engine)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    slack_app.base_url = f"http://127.0.0.1:{port}"
    yield slack_app
    await runner.cleanup()


@pytest.fixture
async def driver(server: Any) -> AsyncIterator[SlackDriver]:
    async with aiohttp.ClientSession() as session:
        yield SlackDriver(server.base_url, session)


def interaction(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def submission(
    view: dict[str, Any], ticked: Callable[[str], bool], user: str = USER
) -> dict[str, Any]:
    """The view_submission Slack sends for ``view`` (as the bot opened it) with the
    checkboxes for which ``ticked(value)`` is true."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        values[block["block_id"]] = {
            element["action_id"]: {
                "type": "checkboxes",
                "selected_options": [o for o in element["options"] if ticked(o["value"])],
            }
        }
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "beta-test"},
        "user": {"id": user, "username": "camille", "name": "camille", "team_id": TEAM_ID},
        "api_app_id": "A0000001",
        "token": "legacy-unused",
        "trigger_id": "22222.33333.abcdef",
        "view": {
            **view,
            "id": "V0FORM001",
            "team_id": TEAM_ID,
            "state": {"values": values},
            "hash": "1700000000.abcdef",
            "root_view_id": "V0FORM001",
            "app_id": "A0000001",
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }


def select(value: str, response_url: str) -> dict[str, Any]:
    """Choosing ``value`` in the picker's menu (block_actions on an ephemeral message)."""
    return {
        "type": "block_actions",
        "user": {"id": USER, "username": "camille", "team_id": TEAM_ID},
        "api_app_id": "A0000001",
        "token": "legacy-unused",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": "C0GENERAL",
            "is_ephemeral": True,
        },
        "trigger_id": "44444.55555.picker",
        "team": {"id": TEAM_ID, "domain": "beta-test"},
        "channel": {"id": "C0GENERAL", "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "type": "static_select",
                "action_id": "eligibility_pick",
                "block_id": "eligibility_picker",
                "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
                "action_ts": "1700000000.000200",
            }
        ],
    }


def acked(reply: Reply) -> None:
    assert reply.status == 200, reply.text
    assert reply.ms < ACK_LIMIT_MS, f"acknowledged in {reply.ms:.0f} ms"


async def open_form(driver: SlackDriver, fake: FakeSlack, text: str) -> dict[str, Any]:
    """Send ``/eligibilite text``; return the view the bot opened (checks the 3 s budget)."""
    before = len(fake.calls_to("views.open"))
    start = time.monotonic()
    reply = await driver.command(
        text, command="/eligibilite", response_url=fake.response_url("cmd")
    )
    acked(reply)
    assert reply.text == ""  # a bare acknowledgement: the form comes through views.open
    calls = await fake.wait_for("views.open", before + 1)
    call = calls[-1]
    assert call.args["trigger_id"] == TRIGGER, (
        "the form must be opened with the command's trigger_id"
    )
    assert call.at - start < 3.0, "trigger_id expires 3 s after the command"
    view = call.args["view"]
    return view if isinstance(view, dict) else json.loads(view)


# --------------------------------------------------------------------------- the main flow


async def test_command_then_submission_gives_the_verdict(
    driver: SlackDriver, fake_slack: FakeSlack, engine: Any
) -> None:
    view = await open_form(driver, fake_slack, "fast")
    assert view["title"]["text"] == "Éligibilité FAST"
    assert view["callback_id"] == "eligibility_check"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) == 4 and sum(len(b["element"]["options"]) for b in inputs) == 9

    reply = await driver.post(
        interaction(submission(view, lambda value: value != "statistiques-publiques")),
        "application/x-www-form-urlencoded",
    )
    acked(reply)
    body = reply.json()
    assert body["response_action"] == "update"
    verdict_view = body["view"]
    text = json.dumps(verdict_view, ensure_ascii=False)
    assert "Pas encore éligible" in text
    label = engine.schemes["fast"].criterion("statistiques-publiques").label
    assert label.replace("'", "'") in text
    assert "fast/s%C3%A9lection#impact" in text  # the criterion's anchored source
    assert (
        "Le service fonctionne et ses utilisateurs en sont satisfaits*" not in text
    )  # met: not listed as missing

    (dm,) = await fake_slack.wait_for("chat.postMessage")
    assert dm.args["channel"] == USER
    assert "Pas encore éligible" in dm.args["text"]
    assert any(b["type"] == "actions" for b in dm.args["blocks"])


async def test_all_ticked_is_eligible_with_contact_and_deadline(
    driver: SlackDriver, fake_slack: FakeSlack
) -> None:
    view = await open_form(driver, fake_slack, "fast")
    reply = await driver.post(
        interaction(submission(view, lambda _v: True)), "application/x-www-form-urlencoded"
    )
    acked(reply)
    text = json.dumps(reply.json()["view"], ensure_ascii=False)
    assert "Éligible" in text and "fast@beta.gouv.fr" in text and "6 juin 2025" in text


async def test_consolidation_needs_one_complementary(
    driver: SlackDriver, fake_slack: FakeSlack, engine: Any
) -> None:
    view = await open_form(driver, fake_slack, "conso")
    assert view["title"]["text"] == "Consolidation"
    mandatory = {c.id for c in engine.schemes["consolidation"].in_group("obligatoires")}
    reply = await driver.post(
        interaction(submission(view, lambda v: v in mandatory)), "application/x-www-form-urlencoded"
    )
    acked(reply)
    text = json.dumps(reply.json()["view"], ensure_ascii=False)
    assert "il en faut au moins 1, vous en avez 0" in text
    view = await open_form(driver, fake_slack, "consolidation")
    reply = await driver.post(
        interaction(submission(view, lambda v: v in mandatory or v == "mutualisation")),
        "application/x-www-form-urlencoded",
    )
    assert "Éligible" in json.dumps(reply.json()["view"], ensure_ascii=False)


# --------------------------------------------------------------------------- the picker


async def test_no_argument_shows_the_picker_and_choosing_opens_the_form(
    driver: SlackDriver, fake_slack: FakeSlack, engine: Any
) -> None:
    reply = await driver.command(
        "", command="/eligibilite", response_url=fake_slack.response_url("cmd")
    )
    acked(reply)
    picker = reply.json()
    assert picker["response_type"] == "ephemeral"
    menu = picker["blocks"][0]["accessory"]
    assert {o["value"] for o in menu["options"]} == set(engine.schemes)
    assert fake_slack.calls_to("views.open") == []

    reply = await driver.post(
        interaction(select("investigation", fake_slack.response_url("pick"))),
        "application/x-www-form-urlencoded",
    )
    acked(reply)
    (call,) = await fake_slack.wait_for("views.open")
    assert call.args["trigger_id"] == "44444.55555.picker"
    assert call.args["view"]["title"]["text"] == "Investigation"


async def test_unknown_argument_says_so_in_the_picker(
    driver: SlackDriver, fake_slack: FakeSlack
) -> None:
    reply = await driver.command("pizza <!channel>", command="/eligibilite")
    acked(reply)
    body = reply.json()
    assert "Je ne connais pas « pizza" in body["text"]
    assert "<!channel>" not in json.dumps(body)
    assert fake_slack.calls_to("views.open") == []


# --------------------------------------------------------------------------- Gamma, errors, security


async def test_gamma_form_is_closed_and_leads_to_the_fast(
    driver: SlackDriver, fake_slack: FakeSlack
) -> None:
    view = await open_form(driver, fake_slack, "gamma")
    assert not [b for b in view["blocks"] if b["type"] == "input"]
    assert "Programme terminé" in json.dumps(view, ensure_ascii=False)
    reply = await driver.post(
        interaction(submission(view, lambda _v: True)), "application/x-www-form-urlencoded"
    )
    acked(reply)
    body = reply.json()
    assert body["response_action"] == "update"
    assert body["view"]["title"]["text"] == "Éligibilité FAST"
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_a_failed_views_open_is_explained_to_the_person(
    driver: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("views.open", status=200, error="expired_trigger_id", retry_after=None)
    reply = await driver.command(
        "fast", command="/eligibilite", response_url=fake_slack.response_url("cmd")
    )
    acked(reply)
    (sorry,) = await fake_slack.wait_for("response_url:cmd")
    assert "/eligibilite fast" in sorry.args["text"]


async def test_a_form_whose_scheme_is_gone_gets_a_notice(
    driver: SlackDriver, fake_slack: FakeSlack
) -> None:
    view = await open_form(driver, fake_slack, "sponsor")
    view["private_metadata"] = json.dumps({"scheme": "removed"})
    reply = await driver.post(
        interaction(submission(view, lambda _v: True)), "application/x-www-form-urlencoded"
    )
    acked(reply)
    assert "plus disponible" in json.dumps(reply.json()["view"], ensure_ascii=False)


@pytest.mark.parametrize("forgery", ["wrong secret", "stale", "unsigned"])
async def test_forged_or_stale_requests_are_refused(
    driver: SlackDriver, fake_slack: FakeSlack, forgery: str
) -> None:
    kwargs: dict[str, Any] = {
        "wrong secret": {"secret": "not-the-secret"},
        "stale": {"timestamp": int(time.time()) - 600},
        "unsigned": {"signed": False},
    }[forgery]
    reply = await driver.command("fast", command="/eligibilite", **kwargs)
    assert reply.status == 401
    view = {
        "type": "modal",
        "callback_id": "eligibility_check",
        "private_metadata": json.dumps({"scheme": "fast"}),
        "blocks": [],
    }
    reply = await driver.post(
        interaction(submission(view, lambda _v: True)),
        "application/x-www-form-urlencoded",
        **kwargs,
    )
    assert reply.status == 401
    await asyncio.sleep(0.05)
    assert fake_slack.calls_to("views.open") == [] and fake_slack.calls_to("chat.postMessage") == []


async def test_many_commands_at_once_are_all_acknowledged_in_time(
    driver: SlackDriver, fake_slack: FakeSlack
) -> None:
    names = ["fast", "conso", "investig", "intra", "sponsor", "transfert", "gamma"] * 8
    replies = await asyncio.gather(*(driver.command(n, command="/eligibilite") for n in names))
    for reply in replies:
        acked(reply)
    calls = await fake_slack.wait_for("views.open", len(names))
    assert len(calls) == len(names)
