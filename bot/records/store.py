"""The bot's own records and shared state: one store interface, two implementations.

- :class:`SQLiteStore` (also ``Records``): a file under ``BOT_DATA_DIR``, the embedded default;
- :class:`bot.records.postgres.PostgresStore`: PostgreSQL (psycopg 3 and its pool) when
  ``DATABASE_URL`` is set, shared by every process (``web``, ``worker``, ``tchap``, one-off
  ``sync`` containers). :func:`open_store` picks one from the settings.

What is kept, and nothing more (see docs/maintainers.md):

- a vote: the normalised question, the answer's source, +1 or -1, the time;
- an unanswered question: its normalised text, how often it was asked, first and last seen
  (per day, so that a report over a period counts that period only);
- per day and per answer source, how many questions were answered (a number, no text);
- dedupe keys (a Slack event id, ...) with an expiry, so that a retry delivered to another
  process is recognised (:meth:`Store.first_time`);
- the startups registry copy ``python -m bot sync`` fetched (:meth:`Store.save_registry`).

No user or channel id, no other message text. Before a question is stored, Slack mentions and
ids, e-mail addresses, phone numbers and long numbers are replaced by placeholders. Everything
older than the retention period (``BOT_RETENTION_DAYS``, 90 days by default) is deleted when
the store is opened and then every hour; expired dedupe keys likewise.

Durability: ``record_*`` put the record on a queue and return a :class:`Receipt` at once; one
writer thread per process stores the queue in short transactions (group commit). The receipt
settles when the transaction holding the record has committed (``ok``) or failed (not ``ok``):
a front end whose reply depends on a record waits for it before replying, so a ``kill -9`` at
any moment loses nothing that was acknowledged. Reads and writes that fail give a
:class:`RecordsError` with a clear message; a failed write is logged, its receipts say so,
and the bot keeps answering.

The schema is versioned (:mod:`bot.records.schema`): missing migrations are applied when a
store opens, or by ``python -m bot migrate``.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import logging
import queue
import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from bot.answering.compose import normalized_question
from bot.errors import RecordsError
from bot.records.schema import LATEST, Migration, pending
from bot.records.scrub import scrub

if TYPE_CHECKING:
    from bot.records.postgres import PostgresStore
    from bot.settings import Settings

log = logging.getLogger(__name__)

FILENAME = "records.sqlite3"
SCHEMA_VERSION = LATEST
DEFAULT_BUSY_TIMEOUT_MS = 5000
PURGE_EVERY_S = 3600.0
MAX_QUEUE = 10_000
DAY = 86400.0
BATCH = 500

_PUNCT = re.compile(r"[^\w\s@.'\-\[\]]")

#: A row as the database drivers give it (sqlite3 and psycopg: a tuple).
Row = tuple[object, ...]


class Cursor(Protocol):
    """What the store reads of a DB-API cursor (``sqlite3.Cursor``, ``psycopg.Cursor``)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...

    def __iter__(self) -> Iterator[Row]: ...


#: An implementation's connection (``sqlite3.Connection``, ``psycopg.Connection``): the shared
#: machinery only hands it back to the implementation's own methods.
Conn = TypeVar("Conn")


def _int(value: object) -> int:
    """A count from a row: an int (SQLite), or an int or Decimal (PostgreSQL's SUM)."""
    if isinstance(value, int | float | Decimal):
        return int(value)
    raise RecordsError(f"the records database returned {value!r} where a number was expected")


def _float(value: object) -> float:
    """A timestamp from a row."""
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise RecordsError(f"the records database returned {value!r} where a time was expected")


def record_form(question: str) -> str:
    """The exact text stored for a question: scrubbed, normalised, punctuation dropped (so
    that "Tarte tatin ?" and "tarte tatin" count as one question)."""
    text = _PUNCT.sub(" ", normalized_question(scrub(question)))
    return " ".join(w.strip(".-'") for w in text.split() if w.strip(".-'"))


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class UnansweredQuestion:
    question: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class DislikedAnswer:
    source: str
    down: int
    up: int
    served: int
    questions: tuple[str, ...] = ()


class _AnswerRate:
    """Questions asked and the answer rate, from ``answered`` and ``unanswered``."""

    answered: int
    unanswered: int

    @property
    def asked(self) -> int:
        return self.answered + self.unanswered

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass(frozen=True)
class Period(_AnswerRate):
    """Questions answered and declined in one period (a day or an ISO week)."""

    label: str
    start: date
    answered: int
    unanswered: int


@dataclass(frozen=True)
class Summary(_AnswerRate):
    """What the report and the admins' App Home show."""

    start: datetime
    end: datetime
    answered: int = 0
    unanswered: int = 0
    up: int = 0
    down: int = 0
    top_unanswered: tuple[UnansweredQuestion, ...] = ()
    disliked: tuple[DislikedAnswer, ...] = ()
    periods: tuple[Period, ...] = ()
    by: str = "jour"
    retention_days: int = 90

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / DAY))


class Receipt:
    """Settles once a record is durable (``ok``) or known not to be stored (not ``ok``).

    ``wait(timeout)`` from a thread, ``await wait_async(timeout)`` from asyncio; both return
    ``ok`` (False on timeout). ``value`` carries a result when there is one (:meth:`Store.claim`:
    whether the key was new).
    """

    __slots__ = ("_done", "_lock", "_waiters", "ok", "value")

    def __init__(self) -> None:
        self.ok = False
        self.value: bool | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = []

    @classmethod
    def settled(cls, ok: bool) -> Receipt:
        receipt = cls()
        receipt.settle(ok)
        return receipt

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def settle(self, ok: bool) -> None:
        settle_all([self], ok)

    def _settle(self, ok: bool) -> list[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]]:
        with self._lock:
            if self._done.is_set():
                return []
            self.ok = ok
            self._done.set()
            waiters, self._waiters = self._waiters, []
        return waiters

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout) and self.ok

    async def wait_async(self, timeout: float | None = None) -> bool:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._done.is_set():
                return self.ok
            future: asyncio.Future[bool] = loop.create_future()
            self._waiters.append((loop, future))
        timer = None if timeout is None else loop.call_later(timeout, _resolve, future, False)
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()


def _resolve(future: asyncio.Future[bool], ok: bool) -> None:
    if not future.done():
        future.set_result(ok)


def _resolve_all(futures: list[asyncio.Future[bool]], ok: bool) -> None:
    for future in futures:
        _resolve(future, ok)


def settle_all(receipts: list[Receipt], ok: bool) -> None:
    """Settle many receipts, waking each waiting event loop once (not once per receipt)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[bool]]] = {}
    for receipt in receipts:
        for loop, future in receipt._settle(ok):
            by_loop.setdefault(loop, []).append(future)
    for loop, futures in by_loop.items():
        if not loop.is_closed():
            loop.call_soon_threadsafe(_resolve_all, futures, ok)


@dataclass
class _Item:
    kind: str
    ts: float
    question: str = ""
    source: str = ""
    vote: int = 0
    receipt: Receipt | None = field(default=None, repr=False)
    done: threading.Event | None = field(default=None, repr=False)
    ttl: float = 0.0
    first: bool | None = None


# Portable SQL (``?`` placeholders; the PostgreSQL store rewrites them to ``%s``).
_DOWN = "SUM(CASE WHEN vote < 0 THEN 1 ELSE 0 END)"
_UP = "SUM(CASE WHEN vote > 0 THEN 1 ELSE 0 END)"
# One dedupe key: inserted (new), or taken over when its expiry has passed (new again);
# otherwise nothing changes and no row is counted (already seen).
_CLAIM = (
    "INSERT INTO dedupe (key, expires) VALUES (?, ?) ON CONFLICT (key) "
    "DO UPDATE SET expires = excluded.expires WHERE dedupe.expires < ?"
)


class Store(ABC, Generic[Conn]):
    """The store interface, and the machinery both implementations share: the write queue and
    its writer thread, receipts, retention, the report's queries, dedupe keys, the registry
    copy. An implementation says how to connect, run a transaction and describe its errors."""

    kind = "store"
    #: The statement that counts one more unanswered question (``?`` x4: question, day, ts, ts).
    upsert_unanswered = ""

    def __init__(
        self,
        retention_days: int = 90,
        *,
        clock: Callable[[], float] = time.time,
        purge_every_s: float = PURGE_EVERY_S,
    ) -> None:
        self.retention_days = retention_days
        self.clock = clock
        self.purge_every_s = purge_every_s
        self.last_error: RecordsError | None = None
        self.dropped = 0
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=MAX_QUEUE)
        self._closed = False
        self._lock = threading.Lock()
        self._last_purge = time.monotonic()
        self._writer: threading.Thread | None = None
        self.applied: list[Migration] = []  # migrations applied when this store opened

    def _start(self) -> None:
        """Open: migrate, purge, start the writer thread (called by the implementation)."""
        self.applied = self.migrate()
        self.purge()
        self._last_purge = time.monotonic()
        self._writer = threading.Thread(
            target=self._write_loop, name=f"{self.kind}-writer", daemon=True
        )
        self._writer.start()
        atexit.register(self.close)

    # -- what an implementation provides ---------------------------------------------------

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages (a path, a database without its password)."""

    @abstractmethod
    def _connection(self) -> AbstractContextManager[Conn]:
        """A connection for a short while (reads, dedupe, the registry copy, migrations)."""

    @abstractmethod
    def _transaction(self, conn: Conn) -> AbstractContextManager[None]:
        """BEGIN ... COMMIT on ``conn`` (ROLLBACK when the block raises)."""

    @abstractmethod
    def _execute(self, conn: Conn, sql: str, params: tuple[object, ...] = ()) -> Cursor:
        """Run one statement written with ``?`` placeholders; return its cursor."""

    @abstractmethod
    def _error(self, exc: Exception) -> RecordsError:
        """A database error as a RecordsError with a message that tells the fix."""

    @abstractmethod
    def schema_version(self) -> int:
        """The schema version of the database (0 when empty)."""

    @abstractmethod
    def _apply(self, migrations: tuple[Migration, ...]) -> list[Migration]:
        """Apply what is still missing of ``migrations`` (atomically); return what was applied."""

    @abstractmethod
    def _writer_connection(self) -> AbstractContextManager[Conn]:
        """The writer thread's connection for one batch."""

    #: Errors of the driver that mean "the database failed" (turned into RecordsError).
    db_errors: tuple[type[Exception], ...] = ()

    def _close_connections(self) -> None:
        """Release pooled connections (after the writer has stopped)."""

    # -- schema ------------------------------------------------------------------------------

    def migrate(self) -> list[Migration]:
        """Bring the schema to the latest version; return the migrations applied (maybe none).
        A database from a newer bot is refused (RecordsError)."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise RecordsError(
                f"records database {self.describe()} was written by a newer version of the bot "
                f"(schema {current}, this one knows {SCHEMA_VERSION}): upgrade the bot"
            )
        todo = pending(current)
        if not todo:
            return []
        applied = self._apply(todo)
        for m in applied:
            log.info("records: schema migrated to version %d (%s)", m.version, m.description)
        return applied

    # -- writing -------------------------------------------------------------------------------

    def _put(self, item: _Item) -> Receipt:
        receipt = Receipt()
        item.receipt = receipt
        if self._closed:
            receipt.settle(False)
            return receipt
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            receipt.settle(False)
            if self.dropped % 1000 == 1:
                log.warning("records queue full, %d record(s) dropped so far", self.dropped)
        return receipt

    def record_vote(self, question: str, source: str | None, vote: int) -> Receipt:
        """Keep one vote (+1 or -1) on the answer ``source`` gave to ``question``."""
        if vote not in (1, -1):
            raise ValueError(f"vote must be +1 or -1, got {vote!r}")
        return self._put(_Item("vote", self.clock(), record_form(question), source or "", vote))

    def record_unanswered(self, question: str) -> Receipt:
        """Count one question the bot declined (kept normalised, without personal data)."""
        text = record_form(question)
        if not text:
            return Receipt.settled(True)  # nothing to keep: nothing to lose
        return self._put(_Item("unanswered", self.clock(), text))

    def record_answered(self, source: str | None = None, count: int = 1) -> Receipt:
        """Count one answered question (a number per day and source; no text is kept).
        ``count=-1`` takes one back (the reply could not be delivered after all)."""
        return self._put(_Item("answered", self.clock(), source=source or "", vote=count))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record queued so far is written (or dropped); True when done."""
        if self._closed or self._writer is None or not self._writer.is_alive():
            return True
        done = threading.Event()
        try:
            self._queue.put(_Item("flush", 0.0, done=done), timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is queued, stop the writer thread, release connections. Safe twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=10)
        atexit.unregister(self.close)
        self._close_connections()

    def purge(self) -> int:
        """Delete everything older than the retention period, and expired dedupe keys, now;
        return the rows deleted."""
        with self._guard(), self._connection() as conn:
            return self._purge(conn)

    def _purge(self, conn: Conn) -> int:
        now = self.clock()
        cutoff = now - self.retention_days * DAY
        with self._transaction(conn):
            n = self._execute(conn, "DELETE FROM votes WHERE ts < ?", (cutoff,)).rowcount
            n += self._execute(
                conn, "DELETE FROM unanswered WHERE last_seen < ?", (cutoff,)
            ).rowcount
            n += self._execute(conn, "DELETE FROM answered WHERE day < ?", (_day(cutoff),)).rowcount
            expired = self._execute(
                conn, "DELETE FROM dedupe WHERE expires < ?", (time.time(),)
            ).rowcount
        if n:
            log.info("records: %d row(s) older than %d days deleted", n, self.retention_days)
        return int(n) + int(expired)

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            try:
                first = self._queue.get(timeout=min(self.purge_every_s, 60.0))
            except queue.Empty:
                first = _Item("tick", 0.0)
            batch: list[_Item] = []
            waiters: list[threading.Event] = []
            item: _Item | None = first
            while True:
                if item is None:
                    stop = True
                elif item.done is not None:
                    waiters.append(item.done)
                elif item.kind != "tick":
                    batch.append(item)
                if len(batch) >= BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            claims = [it for it in batch if it.kind == "dedupe"]
            batch = [it for it in batch if it.kind != "dedupe"]
            ok = False
            try:
                with self._guard(), self._writer_connection() as conn:
                    if claims:
                        # Dedupe keys first, in their own relaxed transaction (no flush to disk
                        # per commit: a lost key costs at most one duplicate reply after a power
                        # cut), answered at once; then the records, durable.
                        claimed = False
                        try:
                            with self._relaxed_transaction(conn):
                                self._claim(conn, claims)
                            claimed = True
                        finally:
                            for it in claims:
                                if it.receipt is not None:
                                    it.receipt.value = it.first
                            settle_all([it.receipt for it in claims if it.receipt], claimed)
                    if batch:
                        self._write(conn, batch)
                    ok = True
                    if time.monotonic() - self._last_purge >= self.purge_every_s:
                        self._last_purge = time.monotonic()
                        self._purge(conn)
                self.last_error = None
            except RecordsError as exc:
                self.last_error = exc
                if not ok:
                    log.error("%d record(s) not stored: %s", len(batch), exc)
                else:
                    log.error("records: purge failed: %s", exc)
            settle_all([it.receipt for it in batch if it.receipt is not None], ok)
            for w in waiters:
                w.set()

    def _claim(self, conn: Conn, claims: list[_Item]) -> None:
        now = time.time()
        for it in claims:
            cursor = self._execute(conn, _CLAIM, (it.question, now + it.ttl, now))
            it.first = bool(cursor.rowcount == 1)

    def _relaxed_transaction(self, conn: Conn) -> AbstractContextManager[None]:
        """A transaction whose commit need not reach the disk before it returns (dedupe
        keys); by default an ordinary one."""
        return self._transaction(conn)

    def _execute_many(self, conn: Conn, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        """Run one statement for each row (PostgreSQL: in one round trip)."""
        for row in rows:
            self._execute(conn, sql, row)

    def _write(self, conn: Conn, batch: list[_Item]) -> None:
        votes = [(it.ts, it.question, it.source, it.vote) for it in batch if it.kind == "vote"]
        unanswered = [
            (it.question, _day(it.ts), it.ts, it.ts) for it in batch if it.kind == "unanswered"
        ]
        answered = [(_day(it.ts), it.source, it.vote) for it in batch if it.kind == "answered"]
        # a count taken back to nothing leaves no row
        emptied = sorted({(day, source) for day, source, n in answered if n < 0})
        with self._transaction(conn):
            if votes:
                self._execute_many(
                    conn,
                    "INSERT INTO votes (ts, question, source, vote) VALUES (?, ?, ?, ?)",
                    votes,
                )
            if unanswered:
                self._execute_many(conn, self.upsert_unanswered, unanswered)
            if answered:
                self._execute_many(
                    conn,
                    "INSERT INTO answered (day, source, count) VALUES (?, ?, ?) "
                    "ON CONFLICT (day, source) DO UPDATE SET "
                    "count = answered.count + excluded.count",
                    answered,
                )
            if emptied:
                self._execute_many(
                    conn,
                    "DELETE FROM answered WHERE day = ? AND source = ? AND count <= 0",
                    emptied,
                )

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Driver errors become RecordsError (with the implementation's message)."""
        try:
            yield
        except RecordsError:
            raise
        except self.db_errors as exc:
            raise self._error(exc) from exc

    # -- shared dedupe keys ------------------------------------------------------------------

    @staticmethod
    def dedupe_key(key: str) -> str:
        """What is stored of a dedupe key: its digest. An event's id may carry a user's or a
        channel's (a test harness builds them so; nothing promises Slack never will), and only
        equality matters here."""
        return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]

    def claim(self, key: str, ttl: float) -> Receipt:
        """Like :meth:`first_time`, through the writer thread (batched with the other writes,
        on its one connection): the receipt's ``value`` says whether ``key`` was new, once
        ``ok``. For the event loop: no thread hand-off or connection per Slack event."""
        receipt = Receipt()
        if self._closed:
            receipt.settle(False)
            return receipt
        try:
            item = _Item("dedupe", 0.0, self.dedupe_key(key), receipt=receipt, ttl=ttl)
            self._queue.put_nowait(item)
        except queue.Full:
            receipt.settle(False)
        return receipt

    def first_time(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is offered within ``ttl`` seconds, by any process using
        this store; False afterwards. One statement: ``INSERT ... ON CONFLICT`` on the key,
        which takes over a key whose expiry has passed. RecordsError when the store fails."""
        now = time.time()
        with self._guard(), self._connection() as conn, self._transaction(conn):
            cursor = self._execute(conn, _CLAIM, (self.dedupe_key(key), now + ttl, now))
            return bool(cursor.rowcount == 1)

    # -- the registry copy -------------------------------------------------------------------

    def save_registry(self, payload: str, name: str = "registry") -> str:
        """Keep ``payload`` (the registry copy, JSON) as the current one; return its stamp."""
        stamp = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        with self._guard(), self._connection() as conn, self._transaction(conn):
            self._execute(
                conn,
                "INSERT INTO registry_copy (name, payload, stamp, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET payload = excluded.payload, "
                "stamp = excluded.stamp, updated_at = excluded.updated_at",
                (name, payload, stamp, time.time()),
            )
        return stamp

    def registry_stamp(self, name: str = "registry") -> str | None:
        """The stamp of the stored copy (cheap: for polling), None when there is none."""
        with self._guard(), self._connection() as conn:
            row = self._execute(
                conn, "SELECT stamp FROM registry_copy WHERE name = ?", (name,)
            ).fetchone()
        return str(row[0]) if row else None

    def load_registry(self, name: str = "registry") -> tuple[str, str] | None:
        """(payload, stamp) of the stored copy, None when there is none."""
        with self._guard(), self._connection() as conn:
            row = self._execute(
                conn, "SELECT payload, stamp FROM registry_copy WHERE name = ?", (name,)
            ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    # -- reading -------------------------------------------------------------------------------

    def summary(self, since: timedelta = timedelta(days=30), limit: int = 10) -> Summary:
        """Top unanswered questions, most disliked answers and the answer rate since ``since``
        ago. Raises RecordsError when the store cannot be read."""
        now = self.clock()
        start_ts = now - since.total_seconds()
        start_day = _day(start_ts)
        weekly = since > timedelta(days=31)
        with self._guard(), self._connection() as conn:
            run = self._execute
            top = [
                UnansweredQuestion(
                    str(q),
                    _int(n),
                    datetime.fromtimestamp(_float(first), UTC),
                    datetime.fromtimestamp(_float(last), UTC),
                )
                for q, n, first, last in run(
                    conn,
                    "SELECT question, SUM(count) AS n, MIN(first_seen), MAX(last_seen) "
                    "FROM unanswered WHERE last_seen >= ? GROUP BY question "
                    "ORDER BY n DESC, MAX(last_seen) DESC, question LIMIT ?",
                    (start_ts, limit),
                ).fetchall()
            ]
            served = {
                str(s): _int(n)
                for s, n in run(
                    conn,
                    "SELECT source, SUM(count) FROM answered WHERE day >= ? GROUP BY source",
                    (start_day,),
                ).fetchall()
            }
            disliked = []
            for source, down, up in run(
                conn,
                f"SELECT source, {_DOWN} AS down, {_UP} AS up FROM votes "
                f"WHERE ts >= ? GROUP BY source HAVING {_DOWN} > 0 "
                "ORDER BY down DESC, up ASC, source LIMIT ?",
                (start_ts, limit),
            ).fetchall():
                questions = tuple(
                    str(q)
                    for (q,) in run(
                        conn,
                        "SELECT question FROM votes WHERE ts >= ? AND source = ? AND vote < 0 "
                        "GROUP BY question ORDER BY COUNT(*) DESC, MAX(ts) DESC, question LIMIT 3",
                        (start_ts, source),
                    ).fetchall()
                )
                disliked.append(
                    DislikedAnswer(
                        str(source), _int(down), _int(up), served.get(str(source), 0), questions
                    )
                )
            up_total, down_total = run(
                conn,
                f"SELECT COALESCE({_UP}, 0), COALESCE({_DOWN}, 0) FROM votes WHERE ts >= ?",
                (start_ts,),
            ).fetchone() or (0, 0)
            per_day: dict[str, list[int]] = {}
            for column, table in enumerate(("answered", "unanswered")):  # per_day[day][column]
                for day, n in run(
                    conn,
                    f"SELECT day, SUM(count) FROM {table} WHERE day >= ? GROUP BY day",
                    (start_day,),
                ).fetchall():
                    per_day.setdefault(str(day), [0, 0])[column] = _int(n)
        periods = _periods(per_day, weekly)
        return Summary(
            start=datetime.fromtimestamp(start_ts, UTC),
            end=datetime.fromtimestamp(now, UTC),
            answered=sum(v[0] for v in per_day.values()),
            unanswered=sum(v[1] for v in per_day.values()),
            up=_int(up_total),
            down=_int(down_total),
            top_unanswered=tuple(top),
            disliked=tuple(disliked),
            periods=periods,
            by="semaine" if weekly else "jour",
            retention_days=self.retention_days,
        )

    def dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every stored record, table by table (for audits and tests)."""
        order = {
            "votes": "ts, question, source, vote",
            "unanswered": "question, day",
            "answered": "day, source",
        }
        with self._guard(), self._connection() as conn:
            return {
                table: [
                    tuple(r) for r in self._execute(conn, f"SELECT * FROM {table} ORDER BY {o}")
                ]
                for table, o in order.items()
            }


def _describe(exc: sqlite3.Error, path: Path) -> RecordsError:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return RecordsError(
            f"records file {path} is locked by another process ({text}); "
            "records are skipped meanwhile, answers keep flowing"
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return RecordsError(
            f"records file {path} is corrupted ({text}): move it aside or delete it, "
            "a new one is created at the next start; answers keep flowing without records"
        )
    if "readonly" in low or "unable to open" in low or "disk i/o" in low or "full" in low:
        return RecordsError(
            f"records file {path} cannot be written ({text}): check BOT_DATA_DIR "
            "(permissions, free space); answers keep flowing without records"
        )
    return RecordsError(f"records file {path}: {text}")


class SQLiteStore(Store[sqlite3.Connection]):
    """The store in one SQLite file (WAL mode, busy timeout: several processes and threads can
    write at once). The embedded default, under ``BOT_DATA_DIR``."""

    kind = "sqlite"
    db_errors = (sqlite3.Error,)
    upsert_unanswered = (
        "INSERT INTO unanswered (question, day, count, first_seen, last_seen) "
        "VALUES (?, ?, 1, ?, ?) ON CONFLICT (question, day) DO UPDATE SET "
        "count = count + 1, first_seen = min(first_seen, excluded.first_seen), "
        "last_seen = max(last_seen, excluded.last_seen)"
    )

    def __init__(
        self,
        path: Path,
        retention_days: int = 90,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Callable[[], float] = time.time,
        purge_every_s: float = PURGE_EVERY_S,
    ) -> None:
        super().__init__(retention_days, clock=clock, purge_every_s=purge_every_s)
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._init_file()
        self._start()

    def describe(self) -> str:
        return str(self.path)

    def _error(self, exc: Exception) -> RecordsError:
        assert isinstance(exc, sqlite3.Error)
        return _describe(exc, self.path)

    def _connect(self, synchronous: str = "FULL") -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            # FULL (the writer's records): a commit is on disk before the reply that depends on
            # it. NORMAL (dedupe keys, reads): in WAL mode a commit survives the process being
            # killed, without an fsync per Slack event; only a power cut could lose the last keys.
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        except sqlite3.Error as exc:
            raise _describe(exc, self.path) from exc
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # A connection per use (a fraction of a millisecond): an idle process holds no lock
        # on the file, so another process can always take it (``PRAGMA locking_mode``).
        conn = self._connect("NORMAL")
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _writer_connection(self) -> Iterator[sqlite3.Connection]:
        # The writer thread keeps its connection between batches; a failure drops it.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        try:
            yield conn
        except BaseException:
            with self._lock:
                if conn in self._opened:
                    self._opened.remove(conn)
            self._local.conn = None
            conn.close()
            raise

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _execute(
        self, conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()
    ) -> sqlite3.Cursor:
        return conn.execute(sql, params)

    @contextmanager
    def _relaxed_transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: survives a killed process
        try:
            with self._transaction(conn):
                yield
        finally:
            conn.execute("PRAGMA synchronous = FULL")

    def _close_connections(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        except sqlite3.Error as exc:
            raise _describe(exc, self.path) from exc
        finally:
            conn.close()

    def _init_file(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordsError(
                f"cannot create the records folder {self.path.parent}: {exc}; check BOT_DATA_DIR"
            ) from exc
        with self._reading() as conn:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("records file %s is not in WAL mode (%s)", self.path, mode)
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise RecordsError(
                    f"records file {self.path} is corrupted ({check}): move it aside or "
                    "delete it, a new one is created at the next start"
                )

    def schema_version(self) -> int:
        with self._reading() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def _apply(self, migrations: tuple[Migration, ...]) -> list[Migration]:
        with self._reading() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                current = int(conn.execute("PRAGMA user_version").fetchone()[0])
                todo = [m for m in migrations if m.version > current]
                for m in todo:
                    for statement in _statements(m.sqlite):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {int(m.version)}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return todo


def _statements(script: str) -> list[str]:
    """The statements of a migration script (ours: no ``;`` inside a statement)."""
    return [s.strip() for s in script.split(";") if s.strip()]


#: The SQLite store under its historical name.
Records = SQLiteStore


def _periods(per_day: dict[str, list[int]], weekly: bool) -> tuple[Period, ...]:
    buckets: dict[date, list[int]] = {}
    labels: dict[date, str] = {}
    for day, (answered, unanswered) in per_day.items():
        d = date.fromisoformat(day)
        if weekly:
            start = d - timedelta(days=d.weekday())
            iso = start.isocalendar()
            labels[start] = f"{iso.year}-S{iso.week:02d}"
        else:
            start = d
            labels[start] = day
        b = buckets.setdefault(start, [0, 0])
        b[0] += answered
        b[1] += unanswered
    return tuple(Period(labels[s], s, v[0], v[1]) for s, v in sorted(buckets.items()))


def records_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / FILENAME


def open_store(settings: Settings) -> SQLiteStore | PostgresStore:
    """PostgreSQL when ``DATABASE_URL`` is set, else the SQLite file in ``BOT_DATA_DIR``;
    migrated to the latest schema. RecordsError (naming the database) when unusable."""
    if settings.database_url:
        from bot.records.postgres import PostgresStore

        return PostgresStore(settings.database_url, retention_days=settings.retention_days)
    return SQLiteStore(records_path(settings), retention_days=settings.retention_days)


def open_records(settings: Settings) -> SQLiteStore | PostgresStore:
    """Open (or create) the store the settings name (see :func:`open_store`)."""
    return open_store(settings)


def run_migrate(settings: Settings) -> int:
    """``python -m bot migrate``: bring the store's schema to the latest version; say what was
    done in one line. 1 and ``migrate failed: <reason>`` when the store cannot be used."""
    import sys

    try:
        store = open_store(settings)
    except RecordsError as exc:
        print(f"migrate failed: {exc}", file=sys.stderr)
        return 1
    try:
        where = f"{store.kind} {store.describe()}"
        if store.applied:
            done = ", ".join(f"{m.version} ({m.description})" for m in store.applied)
            print(f"{where}: schema version {SCHEMA_VERSION}, applied {done}")
        else:
            print(f"{where}: schema version {SCHEMA_VERSION}, up to date")
    finally:
        store.close()
    return 0
