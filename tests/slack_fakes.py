"""Stand-ins for Slack's own servers, and a driver that talks to the bot the way Slack does.

- :class:`FakeSlack`: a small Slack Web API on loopback (aiohttp.web, port 0) that records
  every call (``/api/<method>``), answers ``response_url`` posts (``/response/<name>``), can be
  told to fail (429 + Retry-After, ``ok: false`` errors), and speaks enough of Socket Mode
  (``apps.connections.open`` + a WebSocket) to drive the bot without Slack.
- :func:`sign`: Slack's v0 request signature (HMAC-SHA256 of ``v0:<timestamp>:<body>``).
- :class:`SlackDriver`: posts signed events, slash commands and button clicks to the bot over
  real HTTP and reports status, body and time to acknowledge.

Nothing here knows the bot's code: it only speaks Slack's wire formats.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1234-5678-test"
APP_TOKEN = "xapp-1-A111-222-test"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0000001"


def sign(secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack puts on every request: timestamp and v0 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(
        secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256
    ).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Call:
    """One call the bot made to the fake Slack."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    def text_everywhere(self) -> str:
        """Every string of the call's payload, joined: what a user could end up reading."""
        out: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, str):
                out.append(node)
            elif isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.args)
        return "\n".join(out)


@dataclass
class Failure:
    status: int = 429
    error: str = "ratelimited"
    retry_after: int | None = 1


class FakeSlack:
    """A recording Slack Web API on 127.0.0.1 (see the module docstring)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL is set to in tests."""
        return f"http://127.0.0.1:{self.port}/api"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # --- test helpers ---------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls to ``method`` fail (429 with Retry-After by default)."""
        self.failures.setdefault(method, []).extend(
            Failure(status, error, retry_after) for _ in range(times)
        )

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``method`` was called ``count`` times; the calls so far."""

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{method} called {len(self.calls_to(method))} time(s), expected {count}; "
                f"calls: {[c.method for c in self.calls]}"
            ) from None
        return self.calls_to(method)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # --- Web API ---------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            args = json.loads(raw) if raw else {}
        else:
            args = dict(parse_qsl(raw))
            for key in ("blocks", "view", "attachments"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
        await self._record(Call(method, args, dict(request.headers)))
        queue = self.failures.get(method)
        if queue:
            failure = queue.pop(0)
            headers = (
                {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            )
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://beta-test.slack.com/",
                    "team": "beta-test",
                    "user": "betabot",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "is_enterprise_install": False,
                }
            )
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return web.json_response(
                {
                    "ok": True,
                    "channel": args.get("channel"),
                    "ts": ts,
                    "message": {"text": args.get("text")},
                }
            )
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        return web.json_response({"ok": True})

    async def _response_url(self, request: web.Request) -> web.Response:
        payload = await request.json()
        await self._record(
            Call(f"response_url:{request.match_info['name']}", payload, dict(request.headers))
        )
        return web.Response(text="ok")

    # --- Socket Mode -----------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await self._record(Call("socket:connect", {}, dict(request.headers)))
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(msg.data)
                self.socket_acks.append(data)
                await self._record(Call("socket:ack", data, {}))
        self._sockets.remove(ws)
        return ws

    async def push_event(
        self, event: dict[str, Any], *, envelope_id: str, event_id: str, retry_attempt: int = 0
    ) -> None:
        """Deliver an Events API envelope over the open Socket Mode connection."""
        if not self._sockets:
            raise AssertionError("no Socket Mode connection")
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
                "payload": event_envelope(event, event_id),
            }
        )


def event_envelope(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {
        "token": "legacy-unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0000001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "enterprise_id": None}
        ],
        "is_ext_shared_channel": False,
    }


@dataclass
class Reply:
    """What the bot answered to one HTTP request."""

    status: int
    text: str
    ms: float

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


_ids = itertools.count(1)


def new_ts() -> str:
    return f"{int(time.time())}.{next(_ids):06d}"


class SlackDriver:
    """Talks to the bot the way Slack does: signed HTTP posts to /slack/events."""

    def __init__(
        self, base_url: str, session: aiohttp.ClientSession, secret: str = SIGNING_SECRET
    ) -> None:
        self.base_url = base_url
        self.session = session
        self.secret = secret

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        path: str = "/slack/events",
    ) -> Reply:
        all_headers = {"Content-Type": content_type}
        if signed:
            all_headers.update(sign(secret or self.secret, body, timestamp))
        all_headers.update(headers or {})
        start = time.perf_counter()
        async with self.session.post(
            self.base_url + path, data=body.encode(), headers=all_headers
        ) as resp:
            text = await resp.text()
            return Reply(resp.status, text, (time.perf_counter() - start) * 1000)

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        **kwargs: Any,
    ) -> Reply:
        body = json.dumps(event_envelope(event, event_id or f"Ev{next(_ids):08d}"))
        headers = dict(kwargs.pop("headers", None) or {})
        if retry_num is not None:
            headers.update(
                {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            )
        return await self.post(body, "application/json", headers=headers, **kwargs)

    async def command(
        self,
        text: str,
        *,
        command: str = "/beta",
        user_id: str = "U0USER01",
        channel_id: str = "C0GENERAL",
        response_url: str = "http://127.0.0.1:9/unused",
        **kwargs: Any,
    ) -> Reply:
        form = {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "team_domain": "beta-test",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "camille",
            "command": command,
            "text": text,
            "api_app_id": "A0000001",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", **kwargs)

    async def click(
        self,
        button: dict[str, Any],
        *,
        user_id: str = "U0USER01",
        response_url: str = "http://127.0.0.1:9/unused",
        message_ts: str | None = None,
        ephemeral: bool = False,
        **kwargs: Any,
    ) -> Reply:
        """Click a button taken from a layout the bot sent (action_id + value)."""
        payload = {
            "type": "block_actions",
            "user": {"id": user_id, "username": "camille", "team_id": TEAM_ID},
            "api_app_id": "A0000001",
            "token": "legacy-unused",
            "container": {
                "type": "message",
                "message_ts": message_ts or new_ts(),
                "channel_id": "C0GENERAL",
                "is_ephemeral": ephemeral,
            },
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "team": {"id": TEAM_ID, "domain": "beta-test"},
            "channel": {"id": "C0GENERAL", "name": "general"},
            "response_url": response_url,
            "actions": [
                {
                    "action_id": button["action_id"],
                    "block_id": button.get("block_id", "feedback"),
                    "text": button.get("text", {"type": "plain_text", "text": "x"}),
                    "value": button.get("value", ""),
                    "type": "button",
                    "action_ts": new_ts(),
                }
            ],
        }
        return await self.post(
            urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
            **kwargs,
        )


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The buttons of a layout, by action_id."""
    found: dict[str, dict[str, Any]] = {}
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    found[element["action_id"]] = {**element, "block_id": block.get("block_id")}
    return found


def mention(
    text: str,
    *,
    channel: str = "C0GENERAL",
    ts: str | None = None,
    thread_ts: str | None = None,
    user: str = "U0USER01",
) -> dict[str, Any]:
    """An ``app_mention`` event as Slack sends it (the bot's mention first)."""
    stamp = ts or new_ts()
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": stamp,
        "channel": channel,
        "event_ts": stamp,
        "team": TEAM_ID,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def direct_message(
    text: str,
    *,
    channel: str = "D0DIRECT1",
    ts: str | None = None,
    user: str = "U0USER01",
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` event in a direct message with the bot (``message.im``)."""
    stamp = ts or new_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": stamp,
        "event_ts": stamp,
        "channel": channel,
        "team": TEAM_ID,
        **extra,
    }
