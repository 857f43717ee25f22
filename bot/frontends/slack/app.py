"""The Slack front end: a Bolt ``AsyncApp`` around the answering engine.

``create_app(settings, engine, records=None)`` builds everything; nothing lives at module level.

How a request flows:

1. Bolt's built-in middleware verifies the v0 signature (401 otherwise) and authorises the
   single workspace (one ``auth.test``, cached).
2. The ``drop_duplicate_events`` middleware acknowledges and drops an Events API delivery whose
   ``event_id`` was already seen (Slack's retries, ``X-Slack-Retry-Num``).
3. Listeners acknowledge at once (events are acknowledged by Bolt before the listener runs;
   commands and actions call ``ack()`` first) and hand the Slack Web API calls to
   :class:`BackgroundTasks`, so the HTTP response never waits on Slack.
4. One message gets one reply: the reply is keyed on the user's message (channel + ``ts``), so
   the ``app_mention`` + ``message`` pair Slack sends for one mention, an edit that re-fires a
   mention, or a retry with a new ``event_id`` never produce a second answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from datetime import timedelta
from typing import Any, Protocol

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.answering.answer import Answer
from bot.errors import RecordsError
from bot.frontends.slack.answering import AnswerPool, default_workers
from bot.frontends.slack.blocks import (
    ACTION_SHARE,
    ACTION_VOTE_DOWN,
    ACTION_VOTE_UP,
    KnowledgeSummary,
    build_answer_blocks,
    build_error_message,
    build_expired,
    build_help,
    build_home_view,
    build_notice,
    build_too_long,
    build_unknown_command,
    build_vote_thanks,
    context,
    decode_value,
)
from bot.frontends.slack.escape import from_slack, safe_text
from bot.records.report import build_admin_report_blocks
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_QUESTION = 2000  # same bound as the engine: longer messages get a clear "too long"
DEDUPE_TTL = 3600.0  # Slack retries after ~0 s, 1 min and 5 min: one hour covers them all
DEDUPE_MAX = 50_000
DRAIN_TIMEOUT = 10.0
HOME_MAX_BLOCKS = 100  # Slack's limit for a Home tab view
REPORT_PERIOD = timedelta(days=30)  # the admins' App Home report: the last 30 days
REPORT_TIMEOUT = 3.0  # a slow (locked) records file delays the App Home at most this long
HELP_WORDS = frozenset({"aide", "help", "?", "-h", "--help", "sos", "usage"})
REPLY_SUBTYPES = (None, "file_share", "thread_broadcast")  # new messages written by a person
KIND_ORDER = ("phase", "eligibility", "contact", "programme", "general")
# What a Web API call may raise when Slack (or the network) fails us: logged, never fatal.
SEND_ERRORS = (SlackApiError, SlackClientError, aiohttp.ClientError, OSError)
_EN_HINT = re.compile(
    r"\b(what|how|who|when|where|which|why|is|are|does|do|can|the)\b", re.IGNORECASE
)


class Records(Protocol):
    """What the front end needs from the bot's records (``bot/records.py``).

    ``record_answered(source)`` and ``summary(since)`` are used when the records have them
    (``bot.records.store.Records`` does): the answer rate and the admins' report on the App Home.
    """

    def record_vote(self, question: str, source: str | None, vote: int) -> Any: ...

    def record_unanswered(self, question: str) -> Any: ...


class Engine(Protocol):
    def answer(self, question: str) -> Answer: ...


class Deduper:
    """Keys seen in the last ``ttl`` seconds, at most ``max_size`` of them (oldest dropped)."""

    def __init__(
        self,
        ttl: float = DEDUPE_TTL,
        max_size: int = DEDUPE_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._seen: OrderedDict[Hashable, float] = OrderedDict()

    def first_time(self, key: Hashable) -> bool:
        """True the first time ``key`` is offered (and remember it), False afterwards.

        No ``await`` inside: under asyncio the check and the insert are one atomic step, so two
        concurrent deliveries of the same event cannot both pass.
        """
        now = self.clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self.ttl and len(self._seen) < self.max_size:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)


class BackgroundTasks:
    """Tasks started after the acknowledgement; kept referenced, logged, drained on shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s failed", name)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Wait for the running tasks (and those they start), cancelling what outlives ``timeout``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                return
            await asyncio.wait(set(self._tasks), timeout=left)

    def __len__(self) -> int:
        return len(self._tasks)


def summarize(engine: Any) -> KnowledgeSummary:
    """What the engine knows, read defensively (the engine evolves on its own)."""
    try:
        state = engine.state
        pages = list(getattr(state.knowledge, "pages", ()))
    except Exception:  # an engine without a state yet: say so, don't fail the App Home
        return KnowledgeSummary()
    by_kind: dict[str, list[str]] = {}
    for page in pages:
        by_kind.setdefault(str(getattr(page, "kind", "general")), []).append(
            str(getattr(page, "title", ""))
        )
    kinds = [k for k in KIND_ORDER if k in by_kind] + sorted(
        k for k in by_kind if k not in KIND_ORDER
    )
    startups: int | None = None
    registry = getattr(state, "registry", None)
    if registry is not None:
        items = getattr(registry, "startups", registry)
        with contextlib.suppress(TypeError):
            startups = len(items)
    schemes = tuple(sorted(str(k) for k in (getattr(state, "schemes", None) or {})))
    last_error = getattr(engine, "last_error", None)
    return KnowledgeSummary(
        pages=len(pages),
        sections=sum(len(getattr(p, "sections", ())) for p in pages),
        topics=tuple((k, tuple(by_kind[k])) for k in kinds),
        startups=startups,
        schemes=schemes,
        last_error=str(last_error) if last_error else None,
        extra={"built_in_ms": round(float(getattr(state, "built_in_ms", 0.0)), 1)},
    )


def guess_lang(text: str) -> str:
    """A cheap guess for our own messages (help, errors) when the engine is not asked."""
    return "en" if len(_EN_HINT.findall(text)) >= 2 else "fr"


def _api_client(settings: Settings) -> AsyncWebClient:
    kwargs: dict[str, Any] = {}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url.rstrip("/") + "/"
    return AsyncWebClient(
        token=settings.slack_bot_token,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),  # 429: waits Retry-After
        ],
        **kwargs,
    )


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


class BetaApp(AsyncApp):
    """The Bolt app plus the little state one process needs (no module globals)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        records: Records | None = None,
        answer_workers: int | None = None,
    ) -> None:
        settings.require_slack()
        super().__init__(
            name="betagouv-bot",
            client=_api_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            logger=logging.getLogger("bot.frontends.slack.bolt"),
            process_before_response=False,
        )
        self.settings = settings
        self.engine = engine
        self.records = records
        self.events = Deduper()  # event_id: Slack's retries and repeated deliveries
        self.replies = Deduper()  # channel + ts of the user's message: one reply per message
        self.clicks = Deduper(ttl=24 * 3600)  # share / vote clicks, per user and message
        self.tasks = BackgroundTasks()
        # Replies to events are computed off the event loop (see bot.frontends.slack.answering); commands
        # and clicks answer in process, inside their acknowledgement, which never queues.
        self.answers = AnswerPool(
            engine, default_workers() if answer_workers is None else answer_workers
        )

    # -----------------------------------------------------------------------------------------
    # answering

    def _notice_for(self, text: str) -> dict[str, Any] | None:
        """The help for an empty or help question, "too long" for a huge one, else None."""
        if not text or text.lower().strip(" !.") in HELP_WORDS:
            return build_help(guess_lang(text))
        if len(text) > MAX_QUESTION:
            return build_too_long(len(text), MAX_QUESTION, guess_lang(text[:300]))
        return None

    def compose(self, question: str, **options: Any) -> tuple[dict[str, Any], Answer | None]:
        """The message for a plain-text question (answered in process), and the engine's answer
        when it was asked."""
        text = question.strip()
        notice = self._notice_for(text)
        if notice is not None:
            return notice, None
        answer = self.engine.answer(text)
        return build_answer_blocks(answer, question=text, **options), answer

    async def compose_off_loop(
        self, question: str, **options: Any
    ) -> tuple[dict[str, Any], Answer | None]:
        """Like :meth:`compose`, with the engine's work done by the answer workers."""
        text = question.strip()
        notice = self._notice_for(text)
        if notice is not None:
            return notice, None
        answer = await self.answers.answer(text)
        return build_answer_blocks(answer, question=text, **options), answer

    async def record_unanswered(self, question: str) -> None:
        if self.records is None:
            log.info("unanswered question: %r", question[:200])
            return
        try:
            await _maybe_await(await asyncio.to_thread(self.records.record_unanswered, question))
        except Exception:
            log.exception("could not record an unanswered question")

    async def record_vote(self, question: str, source: str | None, vote: int) -> None:
        if self.records is None:
            log.info("feedback vote %+d on %s for %r", vote, source, question[:200])
            return
        try:
            await _maybe_await(
                await asyncio.to_thread(self.records.record_vote, question, source, vote)
            )
        except Exception:
            log.exception("could not record a feedback vote")

    async def record_answered(self, source: str | None) -> None:
        """Count one answered question (for the report's answer rate; no text is kept)."""
        record = getattr(self.records, "record_answered", None)
        if record is None:
            return
        try:
            await _maybe_await(await asyncio.to_thread(record, source))
        except Exception:
            log.exception("could not count an answered question")

    async def admin_report_blocks(self, user_id: str) -> list[dict[str, Any]]:
        """The maintainers' report (last 30 days) for an admin's App Home; nothing for anyone
        else. A records file that cannot be read gives the admin a one-line notice instead."""
        if user_id not in self.settings.admins:
            return []
        if self.records is None:  # `serve` could not open the records file
            return [
                context(
                    "Rapport indisponible : les enregistrements sont désactivés "
                    "(voir le journal du démarrage du bot)."
                )
            ]
        summary_of = getattr(self.records, "summary", None)
        if summary_of is None:
            return []
        try:
            summary = await asyncio.wait_for(
                asyncio.to_thread(summary_of, REPORT_PERIOD), REPORT_TIMEOUT
            )
            return build_admin_report_blocks(summary)
        except RecordsError as exc:
            log.warning("admin report not shown on the App Home: %s", exc)
            reason = safe_text(str(exc))
        except TimeoutError:
            log.warning("admin report not shown on the App Home: records too slow to read")
            reason = "le fichier des enregistrements ne répond pas (verrouillé ?)"
        except Exception:
            log.exception("admin report not shown on the App Home")
            reason = "erreur inattendue (voir le journal)"
        return [context(f"Rapport indisponible : {reason}")]

    async def home_view(self, user_id: str) -> dict[str, Any]:
        """The App Home tab for ``user_id``: what the bot knows, plus the report for admins."""
        view = build_home_view(summarize(self.engine))
        report = (await self.admin_report_blocks(user_id))[:HOME_MAX_BLOCKS]
        if report:
            view["blocks"] = view["blocks"][: HOME_MAX_BLOCKS - len(report)] + report
        return view

    async def reply(
        self, client: AsyncWebClient, channel: str, thread_ts: str | None, question: str
    ) -> None:
        """Answer ``question`` in ``channel`` (in the thread ``thread_ts`` when given)."""
        answer: Answer | None = None
        try:
            message, answer = await self.compose_off_loop(question)
        except Exception:
            log.exception("the engine failed on %r", question[:200])
            message = build_error_message(guess_lang(question))
        try:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **message,
            )
        except SEND_ERRORS as exc:
            log.warning("could not post the answer in %s: %s", channel, exc)
            return
        if answer is not None and not answer.answered:
            await self.record_unanswered(question)
        elif answer is not None:
            await self.record_answered(answer.source_id)

    def first_reply(self, event: dict[str, Any]) -> bool:
        """False when this user message was already answered (or is being answered)."""
        key = ("reply", event.get("channel"), event.get("ts") or event.get("event_ts"))
        return self.replies.first_time(key)


def _thread_for(event: dict[str, Any]) -> str | None:
    """Where to reply: in channels, the message's thread (or start one on it); in a direct
    message, in the conversation itself unless the person wrote in a thread."""
    channel = str(event.get("channel") or "")
    if event.get("channel_type") == "im" or channel.startswith("D"):
        return event.get("thread_ts")
    return event.get("thread_ts") or event.get("ts")


def _from_person(event: dict[str, Any], bot_user_id: str | None) -> bool:
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    if event.get("subtype") not in REPLY_SUBTYPES:
        return False  # edits, deletions, joins, bot messages, ...
    user = event.get("user")
    return bool(user) and user != bot_user_id


def create_app(
    settings: Settings,
    engine: Any,
    records: Records | None = None,
    *,
    answer_workers: int | None = None,
) -> BetaApp:
    """The Bolt app: events, ``/beta``, actions, App Home, one error handler.

    ``answer_workers``: processes computing the replies to events (default: one when two cores
    or more are available, else none: answers are then computed in process).
    Raises :class:`bot.errors.SettingsError` naming the first missing Slack variable.
    """
    app = BetaApp(settings, engine, records, answer_workers)

    @app.middleware
    async def drop_duplicate_events(
        request: AsyncBoltRequest, body: dict[str, Any], next: Callable[[], Awaitable[Any]]
    ) -> BoltResponse | None:
        """Acknowledge, and go no further, an Events API delivery already seen (same event_id):
        Slack's retries (X-Slack-Retry-Num) and repeated deliveries. A retry of an event this
        process never saw (the first delivery was lost) is handled normally."""
        if isinstance(body, dict) and body.get("type") == "event_callback":
            event_id = body.get("event_id")
            retry = (request.headers.get("x-slack-retry-num") or [""])[0]
            if event_id and not app.events.first_time(("event", event_id)):
                reason = (request.headers.get("x-slack-retry-reason") or [""])[0]
                log.info("duplicate event %s dropped (retry %s %s)", event_id, retry, reason)
                return BoltResponse(status=200, body="")
            if retry:
                log.info("retry %s of event %s not seen before: handling it", retry, event_id)
        await next()
        return None

    # --- events ------------------------------------------------------------------------------

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if not _from_person(event, context.bot_user_id) or not app.first_reply(event):
            return
        question = from_slack(str(event.get("text") or ""), context.bot_user_id)
        app.tasks.spawn(
            app.reply(client, event["channel"], _thread_for(event), question),
            name=f"mention {event.get('channel')}/{event.get('ts')}",
        )

    @app.event("message")
    async def on_message(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        # Subscribed for direct messages only (message.im); anything else is acknowledged.
        if event.get("channel_type") != "im" or not _from_person(event, context.bot_user_id):
            return
        if not app.first_reply(event):
            return
        question = from_slack(str(event.get("text") or ""), context.bot_user_id)
        app.tasks.spawn(
            app.reply(client, event["channel"], _thread_for(event), question),
            name=f"dm {event.get('channel')}/{event.get('ts')}",
        )

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return

        async def publish() -> None:
            try:
                view = await app.home_view(event["user"])
                await client.views_publish(user_id=event["user"], view=view)
            except SEND_ERRORS as exc:
                log.warning("could not publish the App Home: %s", exc)

        app.tasks.spawn(publish(), name=f"home {event.get('user')}")

    # --- /beta ---------------------------------------------------------------------------------

    @app.command("/beta")
    async def on_beta(ack: Any, command: dict[str, Any]) -> None:
        question = from_slack(str(command.get("text") or ""))
        try:
            message, answer = app.compose(question, show_question=True, shareable=True)
        except Exception:
            log.exception("the engine failed on %r", question[:200])
            message, answer = build_error_message(guess_lang(question)), None
        await ack(response_type="ephemeral", **message)
        if answer is not None and not answer.answered:
            app.tasks.spawn(app.record_unanswered(question), name="record unanswered")
        elif answer is not None:
            app.tasks.spawn(app.record_answered(answer.source_id), name="record answered")

    # --- /eligibilite (issue 4) -------------------------------------------------------------------

    eligibility_ready = False
    try:
        from bot.frontends.slack.eligibility import (  # type: ignore[import-not-found,unused-ignore]
            register_eligibility,
        )
    except ModuleNotFoundError as exc:
        if exc.name != "bot.frontends.slack.eligibility":
            raise  # the module is there but broken: say so, do not hide it
        log.info(
            "bot.frontends.slack.eligibility is not there yet: /eligibilite answers that it is coming"
        )
    else:
        register_eligibility(app, engine)
        eligibility_ready = True

    # --- actions ---------------------------------------------------------------------------------

    @app.action(ACTION_SHARE)
    async def on_share(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        user = (body.get("user") or {}).get("id")
        container = body.get("container") or {}
        data = decode_value(action.get("value"))
        question = str((data or {}).get("q") or "").strip()

        async def share() -> None:
            if not question:
                await respond(response_type="ephemeral", replace_original=False, **build_expired())
                return
            if not app.clicks.first_time(("share", user, container.get("message_ts"), question)):
                return  # a double click: the answer is already in the channel
            message, _ = app.compose(question, show_question=True, shared_by=user)
            await respond(response_type="in_channel", delete_original=True, **message)

        app.tasks.spawn(share(), name=f"share by {user}")

    @app.action(re.compile(f"^({ACTION_VOTE_UP}|{ACTION_VOTE_DOWN})$"))
    async def on_vote(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        vote = 1 if action.get("action_id") == ACTION_VOTE_UP else -1
        data = decode_value(action.get("value"))
        if data is None:
            log.warning("feedback button with an unreadable value ignored")
            return
        user = (body.get("user") or {}).get("id")
        container = body.get("container") or {}
        question = str(data.get("q") or "")
        source = data.get("s") if isinstance(data.get("s"), str) else None
        lang = "en" if data.get("l") == "en" else "fr"
        first = app.clicks.first_time(("vote", user, container.get("message_ts"), source, question))

        async def record() -> None:
            if first:
                await app.record_vote(question, source, vote)
            await respond(
                response_type="ephemeral",
                replace_original=False,
                **build_vote_thanks(vote, lang, already=not first),
            )

        app.tasks.spawn(record(), name=f"vote by {user}")

    # --- anything else: acknowledge, so Slack neither retries nor shows an error ---------------

    @app.command(re.compile(r".*"))
    async def on_unknown_command(ack: Any, command: dict[str, Any]) -> None:
        name = str(command.get("command") or "")
        if name == "/eligibilite" and not eligibility_ready:
            await ack(
                response_type="ephemeral",
                **build_notice(
                    "La vérification d'éligibilité arrive bientôt ici. En attendant : `/beta critères du FAST`."
                ),
            )
            return
        await ack(response_type="ephemeral", **build_unknown_command(name))

    @app.action(re.compile(r".*"))
    async def on_other_action(ack: Any) -> None:
        await ack()

    @app.view(re.compile(r".*"))
    async def on_other_view(ack: Any) -> None:
        await ack()

    @app.event(re.compile(r".*"))
    async def on_other_event() -> None:
        return None

    # --- the one error handler ------------------------------------------------------------------

    @app.error
    async def on_error(
        error: Exception, body: dict[str, Any], response: BoltResponse | None
    ) -> BoltResponse | None:
        kind = body.get("type") or ("command" if body.get("command") else "?")
        log.error("Slack request failed (%s): %s", kind, error, exc_info=error)
        if (
            response is not None
            and kind != "event_callback"
            and (body.get("command") or kind == "block_actions")
        ):
            # Not acknowledged yet: acknowledge with an apology rather than Slack's red error.
            message = build_error_message()
            payload = {"response_type": "ephemeral", **message}
            return BoltResponse(
                status=200, body=json.dumps(payload), headers={"content-type": "application/json"}
            )
        return None

    return app
