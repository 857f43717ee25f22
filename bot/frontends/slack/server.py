"""Serving Slack: an aiohttp web application around the Bolt app.

- ``POST /slack/events``: Events API, slash commands and interactivity (HTTP mode), through
  ``slack_bolt.adapter.aiohttp``; requests without a well-formed v0 signature header are refused
  with 401 before any parsing, the signature itself is checked by Bolt (401 when forged or older
  than five minutes).
- ``GET /health``: ``{"ok": true, "mode": ..., "knowledge": {...}}`` for load balancers and people.
- Events API deliveries (``event_callback``) are acknowledged first: once their v0 signature
  and timestamp are checked, the 200 goes back to Slack and Bolt handles the event after the
  response (dedupe, listeners, the one Web API call of the answer). Slack waits for none of it.
  Commands, interactivity and ``url_verification`` go through Bolt before the response, as
  their acknowledgement carries Bolt's answer.
- ``GET /metrics``: Prometheus metrics of this process (``bot.frontends.metrics.Metrics``): answers,
  declines by reason, answer and acknowledgement latency, reloads, syncs, dedupe hits.

``run(settings, engine, records=None, on_startup=None)`` is what ``python -m bot serve`` calls:
HTTP mode on ``settings.host``:``settings.port`` (``BOT_HOST``, ``PORT``), or Socket Mode when ``SLACK_APP_TOKEN`` is set (``/health`` is
still served on ``settings.port``, so the process can run as a ``worker`` with a health check).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.frontends.metrics import Metrics
from bot.frontends.slack.app import BetaApp, Engine, Records, create_app, summarize
from bot.frontends.slack.kit import JsonDict
from bot.settings import Settings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
METRICS_PATH = "/metrics"
MAX_BODY = 1024 * 1024  # Slack payloads are a few KB; anything past 1 MiB is refused (413)
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")
# An Events API envelope (only the envelope's own type is "event_callback"): found without
# parsing the JSON, which Bolt does after the acknowledgement.
_EVENT_CALLBACK = re.compile(rb'"type"\s*:\s*"event_callback"')

StartupHook = Callable[[web.Application], Awaitable[None]]

SLACK_APP: web.AppKey[BetaApp] = web.AppKey("slack_app", BetaApp)
ENGINE: web.AppKey[Engine] = web.AppKey("engine")
MODE: web.AppKey[str] = web.AppKey("mode", str)
VERIFIER: web.AppKey[SignatureVerifier] = web.AppKey("verifier", SignatureVerifier)
EVENT_CONSUMERS = 8  # events handled at once after their ack: the loop stays free for acks
EVENT_BACKLOG = 10_000  # acknowledged events waiting for Bolt; past it, Bolt runs before the ack


# body, query string, headers (lower-case names)
Delivery = tuple[bytes, str, dict[str, str | Sequence[str]]]


class EventQueue:
    """Acknowledged Events API deliveries waiting for Bolt, handled by a few consumer tasks.

    A bounded number of handlers in flight keeps the event loop's ready queue short, so an
    incoming request is acknowledged after a few callbacks, not after every pending event."""

    def __init__(self, slack_app: BetaApp, consumers: int = EVENT_CONSUMERS) -> None:
        self.slack_app = slack_app
        self.queue: asyncio.Queue[tuple[Delivery, asyncio.Future[None]]] = asyncio.Queue(
            EVENT_BACKLOG
        )
        self.consumers = consumers
        self._tasks: list[asyncio.Task[None]] = []

    def put(self, delivery: Delivery) -> bool:
        if not self._tasks:
            return False
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            self.queue.put_nowait((delivery, done))
        except asyncio.QueueFull:
            return False
        self.slack_app.tasks.track(done)  # pending replies (/health) and drains count it
        return True

    async def start(self, _app: web.Application | None = None) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._consume(), name=f"slack events {i}")
            for i in range(self.consumers)
        ]

    async def _consume(self) -> None:
        while True:
            (raw, query, headers), done = await self.queue.get()
            try:
                bolt_request = AsyncBoltRequest(
                    body=raw.decode("utf-8"), query=query, headers=headers
                )
                await _dispatch_after_ack(self.slack_app, bolt_request)
            except Exception:
                log.exception("event handled after its acknowledgement failed")
            finally:
                if not done.done():
                    done.set_result(None)
                self.queue.task_done()

    async def stop(self, _app: web.Application | None = None, timeout: float = 10.0) -> None:
        """Handle what was acknowledged (up to ``timeout``), then stop the consumers."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []


EVENTS: web.AppKey[EventQueue] = web.AppKey("events", EventQueue)


# Interaction payloads Bolt reads (and our listeners answer); any other type is acknowledged and
# ignored before Bolt sees it.
INTERACTIONS = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action",
     "block_suggestion"}
)  # fmt: skip
ENVELOPES = frozenset({"url_verification", "event_callback", "app_rate_limited"})


def parse_slack_body(body: str, content_type: str | None) -> object:
    """The body as Bolt reads it (``slack_bolt.request.internals.parse_body``): JSON, a form's
    ``payload`` JSON, or the form's fields. Raises ValueError when it is not readable."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        return json.loads(body)
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in body and "payload" in fields:
        return json.loads(fields["payload"])
    return fields


def body_problem(body: str, content_type: str | None) -> str | None:
    """Why this body is malformed (answered 400 before Bolt parses it), or None."""
    try:
        data = parse_slack_body(body, content_type)
    except ValueError as exc:
        return f"the body is not valid JSON ({type(exc).__name__})"
    if not isinstance(data, dict):
        return f"the body is not a JSON object but {type(data).__name__}"
    kind = data.get("type")
    if kind is None:
        if isinstance(data.get("command"), str) or "ssl_check" in data:
            return None
        return "the body has neither a 'type' nor a 'command'"
    if not isinstance(kind, str):
        return "'type' is not text"
    if kind == "event_callback":
        event = data.get("event")
        if not isinstance(event, dict):
            return "an event_callback without an 'event' object"
        if not isinstance(event.get("type"), str):
            return "an event without a 'type'"
    return None


def unsupported_shape(body: str, content_type: str | None) -> str | None:
    """Why a well-formed body is nothing our listeners can take (Bolt would fail on it):
    acknowledged with an empty 200 and ignored. None when Bolt should handle it."""
    data = parse_slack_body(body, content_type)
    if not isinstance(data, dict) or "type" not in data:
        return None
    kind = data["type"]
    if kind in ENVELOPES:
        return None
    if kind not in INTERACTIONS:
        return f"interaction type {str(kind)[:40]!r} is not handled"
    if kind == "block_actions":
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "an action without an action_id"
        if not isinstance(data.get("user"), dict):
            return "block_actions without a user"
    if kind in ("view_submission", "view_closed"):
        view = data.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            return f"{kind} without a view type"
        if not isinstance(view.get("callback_id"), str):
            return f"{kind} without a callback_id"
    if kind in ("shortcut", "message_action") and not isinstance(data.get("callback_id"), str):
        return f"{kind} without a callback_id"
    if kind == "block_suggestion" and not isinstance(data.get("action_id"), str):
        return "block_suggestion without an action_id"
    return None


def _json(status: int, payload: JsonDict) -> web.Response:
    return web.json_response(
        payload, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


async def handle_events(request: web.Request) -> web.StreamResponse:
    """Hand a request from Slack to Bolt, refusing what cannot be a signed Slack request."""
    slack_app = request.app[SLACK_APP]
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.match(timestamp) or not _SIGNATURE.match(signature):
        return _json(401, {"error": "invalid request"})
    raw = await request.read()
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _json(400, {"error": "the body is not UTF-8"})
    content_type = request.content_type if request.headers.get("Content-Type") else None
    problem = body_problem(body, content_type)
    if problem is not None:
        log.warning("malformed Slack request refused (400): %s", problem)
        return _json(400, {"error": problem})
    unsupported = unsupported_shape(body, content_type)
    if unsupported is not None:
        verifier = SignatureVerifier(slack_app.settings.slack_signing_secret or "")
        if not verifier.is_valid(body, timestamp, signature):
            return _json(401, {"error": "invalid request"})
        log.warning("Slack request acknowledged and ignored: %s", unsupported)
        return web.Response(status=200)
    early = await ack_event_first(request, slack_app, raw)
    if early is not None:
        return early
    bolt_response = await slack_app.async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


async def ack_event_first(
    request: web.Request, slack_app: BetaApp, raw: bytes
) -> web.StreamResponse | None:
    """Acknowledge an Events API delivery as soon as its signature is checked, and hand it to
    Bolt after the response; None for anything else (Bolt answers it before the response)."""
    if request.content_type != "application/json" or not _EVENT_CALLBACK.search(raw):
        return None
    verifier = request.app[VERIFIER]
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    signature = request.headers.get("X-Slack-Signature")
    if not verifier.is_valid(raw, timestamp, signature):
        return _json(401, {"error": "invalid request"})  # forged, or older than five minutes
    headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in request.headers.items()}
    if not request.app[EVENTS].put((raw, request.query_string, headers)):
        return None  # not started, or a huge backlog: Bolt handles it before the ack
    return web.Response(status=200)


async def _dispatch_after_ack(slack_app: BetaApp, bolt_request: AsyncBoltRequest) -> None:
    response = await slack_app.async_dispatch(bolt_request)
    if response.status >= 400:
        log.warning("event handled after its acknowledgement: Bolt answered %d", response.status)


async def handle_health(request: web.Request) -> web.Response:
    app = request.app
    summary = summarize(app[ENGINE])
    slack_app = app[SLACK_APP]
    return _json(
        200,
        {
            "ok": True,
            "mode": app[MODE],
            "knowledge": summary.to_json(),
            "pending_replies": len(slack_app.tasks),
        },
    )


async def handle_metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[SLACK_APP].metrics.render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


@web.middleware
async def time_acks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Observe how long Slack waits for each acknowledgement (``bot_slack_ack_seconds``)."""
    if request.path != EVENTS_PATH:
        return await handler(request)
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        request.app[SLACK_APP].metrics.ack_seconds.observe(time.perf_counter() - started)


async def _open_http_session(app: web.Application) -> None:
    """One pooled HTTP session for every Web API call (Bolt copies it into each request's client)."""
    client = app[SLACK_APP].client
    if client.session is None or client.session.closed:
        client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=client.timeout),
            connector=aiohttp.TCPConnector(limit=100),
        )


async def _start_answer_workers(app: web.Application) -> None:
    await app[SLACK_APP].answers.start()


async def _drain_and_close(app: web.Application) -> None:
    slack_app = app[SLACK_APP]
    await slack_app.tasks.drain()
    await slack_app.answers.close()
    session = slack_app.client.session
    if session is not None and not session.closed:
        await session.close()


def create_web_app(
    slack_app: BetaApp,
    engine: Engine,
    *,
    mode: str = "http",
    serve_events: bool = True,
    on_startup: Sequence[StartupHook] = (),
) -> web.Application:
    """The aiohttp application: ``/slack/events`` (when ``serve_events``) and ``/health``.

    ``on_startup`` hooks run once the app starts (hot reload, registry refresh, ...); a hook that
    runs a loop should start it as a task and stop it from ``app.on_cleanup``. Hooks find the
    engine at ``app[ENGINE]`` and the Bolt app at ``app[SLACK_APP]``.
    """
    app = web.Application(client_max_size=MAX_BODY)
    app[SLACK_APP] = slack_app
    app[ENGINE] = engine
    app[MODE] = mode
    if serve_events:
        app[VERIFIER] = SignatureVerifier(slack_app.settings.slack_signing_secret or "-")
        app[EVENTS] = EventQueue(slack_app)
        app.on_startup.append(app[EVENTS].start)
        app.on_cleanup.append(app[EVENTS].stop)
        app.router.add_post(EVENTS_PATH, handle_events)
    app.router.add_get(HEALTH_PATH, handle_health)
    app.router.add_get(METRICS_PATH, handle_metrics)
    app.middlewares.append(time_acks)
    app.on_startup.append(_open_http_session)
    app.on_startup.append(_start_answer_workers)
    app.on_startup.extend(on_startup)
    app.on_cleanup.append(_drain_and_close)
    return app


async def serve(
    settings: Settings,
    engine: Engine,
    records: Records | None = None,
    on_startup: Sequence[StartupHook] = (),
    *,
    host: str | None = None,
    stop: asyncio.Event | None = None,
    ready: Callable[[int], None] | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Serve until ``stop`` is set (or SIGINT / SIGTERM); ``ready(port)`` once listening.
    ``host`` defaults to ``settings.host`` (``BOT_HOST``, 0.0.0.0)."""
    host = settings.host if host is None else host
    slack_app = create_app(settings, engine, records, metrics=metrics)
    socket_mode = bool(settings.slack_app_token)
    web_app = create_web_app(
        slack_app,
        engine,
        mode="socket" if socket_mode else "http",
        serve_events=not socket_mode or bool(settings.slack_signing_secret),
        on_startup=on_startup,
    )
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    handler: AsyncSocketModeHandler | None = None
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, host, settings.port)
        await site.start()
        port = _bound_port(runner, settings.port)
        if socket_mode:
            handler = AsyncSocketModeHandler(slack_app, app_token=settings.slack_app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.warning("Socket Mode connected; health on http://%s:%d%s", host, port, HEALTH_PATH)
        else:
            log.warning(
                "serving Slack on http://%s:%d%s (health: %s)", host, port, EVENTS_PATH, HEALTH_PATH
            )
        if ready is not None:
            ready(port)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        await runner.cleanup()


def _bound_port(runner: web.AppRunner, default: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return default


def run(
    settings: Settings,
    engine: Engine,
    records: Records | None = None,
    on_startup: Sequence[StartupHook] | None = None,
    metrics: Metrics | None = None,
) -> None:
    """``python -m bot serve``: serve until interrupted. Raises SettingsError on bad settings."""
    settings.require_slack()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, engine, records, on_startup or (), metrics=metrics))
