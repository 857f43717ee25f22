"""The Slack front end: a Bolt ``AsyncApp`` around the answering engine.

``create_app(settings, engine, records=None)`` builds everything; nothing lives at module level.

How a request flows:

1. Bolt's built-in middleware verifies the v0 signature (401 otherwise) and authorises the
   single workspace (one ``auth.test``, cached).
2. The ``drop_duplicate_events`` middleware acknowledges and drops an Events API delivery whose
   ``event_id`` was already seen (Slack's retries, ``X-Slack-Retry-Num``): by this process
   (in memory), or by any process sharing the store (``Store.first_time``: with
   ``DATABASE_URL``, a retry delivered to the other process is recognised too).
3. Listeners acknowledge at once (events are acknowledged by Bolt before the listener runs;
   commands and actions call ``ack()`` first) and hand the Slack Web API calls to
   :class:`BackgroundTasks`, so the HTTP response never waits on Slack.
4. A record a reply depends on is durable before the reply is sent (the store's receipt):
   the unanswered question or answered count before the answer is posted, the vote before
   the thanks (which says so when it could not be recorded).
5. One message gets one reply: the reply is keyed on the user's message (channel + ``ts``), so
   the ``app_mention`` + ``message`` pair Slack sends for one mention, an edit that re-fires a
   mention, or a retry with a new ``event_id`` never produce a second answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from datetime import timedelta
from typing import Protocol

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.answering.answer import Answer
from bot.answering.conversation import Conversation, Conversations
from bot.answering.text import detect_lang
from bot.eligibility.schemes import Scheme
from bot.errors import BotError, RecordsError
from bot.frontends.metrics import Metrics
from bot.frontends.slack.answering import AnswerPool, default_workers
from bot.frontends.slack.blocks import (
    KnowledgeSummary,
    build_answer_blocks,
    build_error_message,
    build_help,
    build_home_view,
    build_too_long,
)
from bot.frontends.slack.escape import safe_text
from bot.frontends.slack.kit import JsonDict, context
from bot.frontends.slack.listeners import actions, commands, eligibility, events, fallbacks
from bot.frontends.slack.report_blocks import build_admin_report_blocks
from bot.frontends.slack.web import SEND_ERRORS, api_client
from bot.frontends.tasks import BackgroundTasks
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_QUESTION = 2000  # same bound as the engine: longer messages get a clear "too long"
DEDUPE_TTL = 3600.0  # Slack retries after ~0 s, 1 min and 5 min: one hour covers them all
DEDUPE_MAX = 50_000
HOME_MAX_BLOCKS = 100  # Slack's limit for a Home tab view
REPORT_PERIOD = timedelta(days=30)  # the admins' App Home report: the last 30 days
RECORD_TIMEOUT = 2.0  # a record not durable by then is reported as not recorded
REPORT_TIMEOUT = 3.0  # a slow (locked) records file delays the App Home at most this long
HELP_WORDS = frozenset({"aide", "help", "?", "-h", "--help", "sos", "usage"})
KIND_ORDER = ("phase", "eligibility", "contact", "programme", "general")


class Records(Protocol):
    """What the front end needs from the bot's records (``bot/records.py``).

    ``record_answered(source)`` and ``summary(since)`` are used when the records have them
    (``bot.records.store.Records`` does): the answer rate and the admins' report on the App Home.
    """

    def record_vote(self, question: str, source: str | None, vote: int) -> object: ...

    def record_unanswered(self, question: str) -> object: ...


class _NoTokenWarning(logging.Filter):
    """Bolt warns "As you gave `client` as well, `token` will be unused" whenever
    SLACK_BOT_TOKEN is in the environment, though our client carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class Engine(Protocol):
    """What the Slack front end needs of the engine (``bot.engine.Engine`` is one)."""

    def answer(self, question: str, conversation: Conversation | None = None) -> Answer: ...

    def remember(self, conversation: Conversation, question: str, answer: Answer) -> None: ...

    @property
    def schemes(self) -> Mapping[str, Scheme]: ...


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


def summarize(engine: Engine) -> KnowledgeSummary:
    """What the engine knows, read defensively (the engine evolves on its own)."""
    state = getattr(engine, "state", None)
    if state is None:  # an engine without a state yet: say so, don't fail the App Home
        return KnowledgeSummary()
    pages = list(getattr(getattr(state, "knowledge", None), "pages", ()))
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


class BetaApp(AsyncApp):
    """The Bolt app plus the little state one process needs (no module globals)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        records: Records | None = None,
        answer_workers: int | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        settings.require_slack()
        bolt_log = logging.getLogger("bot.frontends.slack.bolt")
        if not any(isinstance(f, _NoTokenWarning) for f in bolt_log.filters):
            bolt_log.addFilter(_NoTokenWarning())
        super().__init__(
            name="betagouv-bot",
            client=api_client(settings),
            signing_secret=settings.slack_signing_secret or "",
            logger=bolt_log,
            process_before_response=False,
        )
        self.metrics = metrics if metrics is not None else Metrics()
        self.settings = settings
        self.engine = engine
        self.records = records
        self.events = Deduper()  # event_id: Slack's retries and repeated deliveries
        self.replies = Deduper()  # channel + ts of the user's message: one reply per message
        self.clicks = Deduper(ttl=24 * 3600)  # share / vote clicks, per user and message
        self.tasks = BackgroundTasks()
        self.conversations = Conversations()  # threads and DMs, in memory only
        # Replies to events are computed off the event loop (see bot.frontends.slack.answering); commands
        # and clicks answer in process, inside their acknowledgement, which never queues.
        self.answers = AnswerPool(
            engine, default_workers() if answer_workers is None else answer_workers
        )

    async def provide_beta(
        self, context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        """Middleware: the listeners find this app (engine, records, dedupers) in the context."""
        context["beta"] = self
        await next()

    # -----------------------------------------------------------------------------------------
    # answering

    def _notice_for(self, text: str) -> JsonDict | None:
        """The help for an empty or help question, "too long" for a huge one, else None."""
        if not text or text.lower().strip(" !.") in HELP_WORDS:
            return build_help(detect_lang(text))
        if len(text) > MAX_QUESTION:
            return build_too_long(len(text), MAX_QUESTION, detect_lang(text[:300]))
        return None

    def compose(
        self,
        question: str,
        *,
        show_question: bool = False,
        shareable: bool = False,
        shared_by: str | None = None,
    ) -> tuple[JsonDict, Answer | None]:
        """The message for a plain-text question (answered in process), and the engine's answer
        when it was asked."""
        text = question.strip()
        notice = self._notice_for(text)
        if notice is not None:
            return notice, None
        answer = self.engine.answer(text)
        message = build_answer_blocks(
            answer,
            question=text,
            show_question=show_question,
            shareable=shareable,
            shared_by=shared_by,
        )
        return message, answer

    async def compose_off_loop(
        self, question: str, conversation: Conversation | None = None
    ) -> tuple[JsonDict, Answer | None]:
        """Like :meth:`compose`, with the engine's work done by the answer workers; a turn of
        a conversation that already has a subject is answered in process, with its context."""
        text = question.strip()
        notice = self._notice_for(text)
        if notice is not None:
            return notice, None
        if conversation is not None and conversation.turns:
            answer = await asyncio.to_thread(self.engine.answer, text, conversation)
        else:
            answer = await self.answers.answer(text)
            if conversation is not None:
                self.engine.remember(conversation, text, answer)
        return build_answer_blocks(answer, question=text), answer

    async def _durable(self, kind: str, record: Callable[[], object]) -> bool:
        """Run ``record`` (a store's ``record_*``: it queues and returns a receipt) and wait
        until the record is durable; False (logged, counted) when it could not be stored."""
        try:
            result = record()
            if inspect.isawaitable(result):
                result = await result
            wait = getattr(result, "wait_async", None)
            ok = True if wait is None else bool(await wait(RECORD_TIMEOUT))
        except Exception:
            log.exception("could not record %s", kind)
            ok = False
        if not ok:
            log.warning("%s not recorded", kind)
            self.metrics.records_failed.labels(kind=kind).inc()
        return ok

    async def record_unanswered(self, question: str) -> bool:
        """Count one declined question; True once it is durable."""
        records = self.records
        if records is None:
            log.info("unanswered question: %r", question[:200])
            return False
        return await self._durable("unanswered", lambda: records.record_unanswered(question))

    async def record_vote(self, question: str, source: str | None, vote: int) -> bool:
        """Keep one feedback vote; True once it is durable."""
        records = self.records
        if records is None:
            log.info("feedback vote %+d on %s for %r", vote, source, question[:200])
            return False
        return await self._durable("vote", lambda: records.record_vote(question, source, vote))

    async def record_answered(self, source: str | None) -> bool:
        """Count one answered question (for the report's answer rate; no text is kept)."""
        record = getattr(self.records, "record_answered", None)
        if record is None:
            return False
        return await self._durable("answered", lambda: record(source))

    async def record_outcome(self, question: str, answer: Answer | None) -> None:
        """What the report needs of one answer: the declined question, or the answered count."""
        if answer is None:
            return
        if answer.answered:
            await self.record_answered(answer.source_id)
        else:
            await self.record_unanswered(question)

    async def first_event(self, event_id: str) -> bool:
        """True the first time an Events API ``event_id`` is delivered: not seen by this
        process (in memory), nor by another one sharing the store. A store that fails is
        logged and the in-memory answer stands."""
        if not self.events.first_time(("event", event_id)):
            self.metrics.dedupe_hits.labels(where="memory").inc()
            return False
        claim = getattr(self.records, "claim", None)
        if claim is None:
            return True
        key = f"slack:event:{event_id}"
        try:
            receipt = claim(key, DEDUPE_TTL)
            ok = await receipt.wait_async(RECORD_TIMEOUT)
        except BotError as exc:
            log.warning("shared dedupe unavailable, this process's memory only: %s", exc)
            return True
        if not ok:
            log.warning("shared dedupe unavailable for %s, this process's memory only", key)
            return True
        first = bool(receipt.value)
        if not first:
            self.metrics.dedupe_hits.labels(where="store").inc()
        return first

    async def admin_report_blocks(self, user_id: str) -> list[JsonDict]:
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

    async def home_view(self, user_id: str) -> JsonDict:
        """The App Home tab for ``user_id``: what the bot knows, plus the report for admins."""
        view = build_home_view(summarize(self.engine))
        report = (await self.admin_report_blocks(user_id))[:HOME_MAX_BLOCKS]
        if report:
            view["blocks"] = view["blocks"][: HOME_MAX_BLOCKS - len(report)] + report
        return view

    async def reply(
        self, client: AsyncWebClient, channel: str, thread_ts: str | None, question: str
    ) -> None:
        """Answer ``question`` in ``channel`` (in the thread ``thread_ts`` when given). The
        thread (or the direct message) is a conversation: a follow-up continues its subject."""
        answer: Answer | None = None
        conversation = self.conversations.get(f"{channel}/{thread_ts or ''}")
        started = time.perf_counter()
        failed = False
        try:
            message, answer = await self.compose_off_loop(question, conversation)
        except Exception:
            log.exception("the engine failed on %r", question[:200])
            message = build_error_message(detect_lang(question))
            failed = True
        if answer is not None or failed:  # not for the help or "too long" notices
            self.metrics.observe_answer(answer, time.perf_counter() - started, "event")
        # Durable before the reply: a kill -9 after the post never loses what it reported.
        await self.record_outcome(question, answer)
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
            retract = getattr(self.records, "record_answered", None)
            if answer is not None and answer.answered and retract is not None:
                # counted before the post (durability): not delivered, so not answered
                source = answer.source_id
                await self._durable("answered", lambda: retract(source, -1))

    def first_reply(self, event: JsonDict) -> bool:
        """False when this user message was already answered (or is being answered)."""
        key = ("reply", event.get("channel"), event.get("ts") or event.get("event_ts"))
        return self.replies.first_time(key)


def create_app(
    settings: Settings,
    engine: Engine,
    records: Records | None = None,
    *,
    answer_workers: int | None = None,
    metrics: Metrics | None = None,
) -> BetaApp:
    """The Bolt app: events, ``/beta``, ``/eligibilite``, actions, App Home, one error handler.

    ``answer_workers``: processes computing the replies to events (default: one when two cores
    or more are available, else none: answers are then computed in process).
    Raises :class:`bot.errors.SettingsError` naming the first missing Slack variable.
    """
    app = BetaApp(settings, engine, records, answer_workers, metrics)
    app.middleware(app.provide_beta)
    events.register(app)
    commands.register(app)
    eligibility.register(app)
    actions.register(app)
    fallbacks.register(app)  # last: Bolt tries listeners in order
    return app
