"""Serving: settings, ``serve`` in HTTP and Socket Mode, startup hooks, and the setup files."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from conftest_slack import Q_DURATION, RecordingRecords
from paths import PROJECT as PROJECT_ROOT
from slack_fakes import APP_TOKEN, BOT_TOKEN, FakeSlack, SlackDriver, mention

from bot.engine import Engine
from bot.errors import SettingsError
from bot.frontends.slack.app import create_app
from bot.frontends.slack.server import ENGINE, run, serve
from bot.settings import Settings

PROJECT = PROJECT_ROOT


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (Settings(), "SLACK_BOT_TOKEN"),
        (Settings(slack_bot_token="abc"), "SLACK_BOT_TOKEN"),
        (Settings(slack_bot_token=BOT_TOKEN), "SLACK_SIGNING_SECRET"),
        (Settings(slack_bot_token=BOT_TOKEN, slack_app_token="xoxb-wrong"), "SLACK_APP_TOKEN"),
    ],
)
def test_missing_or_malformed_slack_settings_name_the_variable(
    settings: Settings, named: str, slack_engine: Engine
) -> None:
    with pytest.raises(SettingsError, match=named):
        create_app(settings, slack_engine)
    with pytest.raises(SettingsError, match=named):
        run(settings, slack_engine)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "s", "PORT": "http"}, "PORT"),
        (
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": "s",
                "SLACK_API_URL": "localhost:3000",
            },
            "SLACK_API_URL",
        ),
    ],
)
def test_serve_stops_with_one_line_naming_the_bad_setting(
    run_bot: Callable[..., Any],
    bot_env: dict[str, str],
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in env.items():
        monkeypatch.setitem(bot_env, key, value)  # undone after the test
    result = run_bot("serve", timeout=60)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


# --- serve() ------------------------------------------------------------------------------------------


async def _health(port: int) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/health") as resp,
    ):
        assert resp.status == 200
        return await resp.json()  # type: ignore[no-any-return]


async def _start(coro: Any) -> tuple[asyncio.Task[None], int]:
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(coro(lambda port: ready.set_result(port)))
    done, _ = await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    return task, ready.result()


async def test_serve_in_http_mode_answers_runs_startup_hooks_and_stops_cleanly(
    slack_settings: Settings,
    slack_engine: Engine,
    fake_slack: FakeSlack,
    slack_records: RecordingRecords,
) -> None:
    seen: list[Any] = []

    async def hook(app: web.Application) -> None:
        seen.append(app[ENGINE])

    stop = asyncio.Event()
    task, port = await _start(
        lambda ready: serve(
            slack_settings,
            slack_engine,
            slack_records,
            [hook],
            host="127.0.0.1",
            stop=stop,
            ready=ready,
        )
    )
    assert seen == [slack_engine]
    health = await _health(port)
    assert health["ok"] is True and health["mode"] == "http"
    async with aiohttp.ClientSession() as session:
        reply = await SlackDriver(f"http://127.0.0.1:{port}", session).event(mention(Q_DURATION))
    assert reply.status == 200
    await fake_slack.wait_for("chat.postMessage")
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_socket_mode_answers_over_the_websocket_and_still_serves_health(
    slack_settings: Settings, slack_engine: Engine, fake_slack: FakeSlack
) -> None:
    settings = replace(slack_settings, slack_app_token=APP_TOKEN, slack_signing_secret=None)
    stop = asyncio.Event()
    task, port = await _start(
        lambda ready: serve(settings, slack_engine, None, host="127.0.0.1", stop=stop, ready=ready)
    )
    try:
        (opened,) = await fake_slack.wait_for("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
        await fake_slack.wait_for("socket:connect")
        health = await _health(port)
        assert health["mode"] == "socket"
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/slack/events", data="{}") as resp,
        ):
            assert resp.status in (404, 405)  # no signing secret: no HTTP events endpoint

        event = mention(Q_DURATION)
        await fake_slack.push_event(event, envelope_id="env-1", event_id="EvSOCK01")
        await fake_slack.push_event(
            event, envelope_id="env-2", event_id="EvSOCK01", retry_attempt=1
        )
        await fake_slack.wait_for("socket:ack", count=2)
        assert {a["envelope_id"] for a in fake_slack.socket_acks} == {"env-1", "env-2"}
        (call,) = await fake_slack.wait_for("chat.postMessage")
        assert call.args["thread_ts"] == event["ts"]
        assert slack_engine.answer(Q_DURATION).text in call.args["text"].replace("&amp;", "&")
        await asyncio.sleep(0.2)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


# --- setup files ------------------------------------------------------------------------------------------


def test_the_manifest_declares_what_the_app_uses() -> None:
    manifest = yaml.safe_load((PROJECT / "slack-manifest.yml").read_text(encoding="utf-8"))
    features = manifest["features"]
    commands = {c["command"] for c in features["slash_commands"]}
    assert commands == {"/beta", "/eligibilite"}
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= scopes
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
        "app_home_opened",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert "socket_mode_enabled" in settings
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")


def test_the_procfile_runs_http_and_socket_mode() -> None:
    lines = dict(
        line.split(":", 1)
        for line in (PROJECT / "Procfile").read_text().splitlines()
        if ":" in line
    )
    assert "python -m bot serve" in lines["web"]
    assert "python -m bot serve" in lines["worker"]


def test_env_sample_lists_every_variable_the_settings_read() -> None:
    source = (PROJECT / "bot" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env\.get\("([A-Z_]+)"', source)) | set(
        re.findall(r'_(?:int|url)\(env, "([A-Z_]+)"', source)
    )
    read.discard("XDG_DATA_HOME")
    sample = (PROJECT / ".env.sample").read_text(encoding="utf-8")
    declared = set(re.findall(r"^#?\s*([A-Z_]+)=", sample, re.MULTILINE))
    assert read, "could not read the settings' variables"
    assert read <= declared, f"missing from .env.sample: {sorted(read - declared)}"


def test_the_slack_docs_cover_both_modes() -> None:
    doc = (PROJECT / "docs" / "slack.md").read_text(encoding="utf-8")
    for needed in (
        "slack-manifest.yml",
        "Socket Mode",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "/slack/events",
        "/health",
    ):
        assert needed in doc
    json.dumps(doc)  # plain text
