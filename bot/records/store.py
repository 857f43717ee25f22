"""The bot's own records: feedback votes and unanswered questions, in SQLite.

What is kept, and nothing more (see docs/maintainers.md):

- a vote: the normalised question, the answer's source, +1 or -1, the time;
- an unanswered question: its normalised text, how often it was asked, first and last seen
  (per day, so that a report over a period counts that period only);
- per day and per answer source, how many questions were answered (a number, no text).

No user or channel id, no other message text. Before a question is stored, Slack mentions and
ids, e-mail addresses, phone numbers and long numbers are replaced by placeholders. Everything
older than the retention period (``BOT_RETENTION_DAYS``, 90 days by default) is deleted when
the file is opened and then every hour.

Writes never block an answer: ``record_*`` put the record on a queue and return; one writer
thread per process stores them in short transactions. The file is in WAL mode with a busy
timeout, so several processes and threads can write at once. A corrupted or locked file gives
a :class:`RecordsError` with a clear message on open and on reads; a failed write is logged
and dropped, and the bot keeps answering.
"""

from __future__ import annotations

import atexit
import logging
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.answering.compose import normalized_question
from bot.answering.text import strip_slack
from bot.errors import RecordsError

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

FILENAME = "records.sqlite3"
SCHEMA_VERSION = 1
DEFAULT_BUSY_TIMEOUT_MS = 5000
PURGE_EVERY_S = 3600.0
MAX_QUEUE = 10_000
DAY = 86400.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    ts REAL NOT NULL,
    question TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1))
);
CREATE INDEX IF NOT EXISTS votes_ts ON votes (ts);
CREATE TABLE IF NOT EXISTS unanswered (
    question TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (question, day)
);
CREATE INDEX IF NOT EXISTS unanswered_day ON unanswered (day);
CREATE TABLE IF NOT EXISTS answered (
    day TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    count INTEGER NOT NULL,
    PRIMARY KEY (day, source)
);
"""

# Personal data people sometimes type in a question, replaced before anything is stored.
_SLACK_ID = re.compile(r"\b[UWBCGDTE](?=[A-Z0-9]*\d)[A-Z0-9]{8,}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<!\w)(?:(?:\+|00)33[ .-]?(?:\(0\))?|0)[1-9](?:[ .-]?\d{2}){4}(?!\w)"
    r"|(?<!\w)\+\d(?:[ .-]?\d){7,14}(?!\w)"
)
_NUMBER = re.compile(r"\d{6,}")
_AT_NAME = re.compile(r"(?<![\w.])[@\uff20]\u2060?[\w.\-]+")  # "@jean", from <@U123|jean>
_PUNCT = re.compile(r"[^\w\s@.'\-\[\]]")


def scrub(text: str) -> str:
    """Remove what could identify a person from a question: mentions (``<@U123>``, ``@jean``),
    Slack ids, e-mail addresses, phone numbers, long numbers."""
    text = strip_slack(str(text))
    text = _SLACK_ID.sub(" ", text)
    text = _EMAIL.sub(" [email] ", text)
    text = _AT_NAME.sub(" ", text)
    text = _PHONE.sub(" [telephone] ", text)
    return _NUMBER.sub(" [numero] ", text)


def record_form(question: str) -> str:
    """The exact text stored for a question: scrubbed, normalised, punctuation dropped (so
    that "Tarte tatin ?" and "tarte tatin" count as one question)."""
    from bot.records.scrub import scrub as scrub_personal_data

    text = _PUNCT.sub(" ", normalized_question(scrub_personal_data(question)))
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


@dataclass(frozen=True)
class Period:
    """Questions answered and declined in one period (a day or an ISO week)."""

    label: str
    start: date
    answered: int
    unanswered: int

    @property
    def asked(self) -> int:
        return self.answered + self.unanswered

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


@dataclass(frozen=True)
class Summary:
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
    def asked(self) -> int:
        return self.answered + self.unanswered

    @property
    def rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / DAY))


@dataclass
class _Item:
    kind: str
    ts: float
    question: str = ""
    source: str = ""
    vote: int = 0
    done: threading.Event | None = field(default=None, repr=False)


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


class Records:
    """Feedback and unanswered questions over one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        retention_days: int = 90,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Callable[[], float] = time.time,
        purge_every_s: float = PURGE_EVERY_S,
    ) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.busy_timeout_ms = busy_timeout_ms
        self.clock = clock
        self.purge_every_s = purge_every_s
        self.last_error: RecordsError | None = None
        self.dropped = 0
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=MAX_QUEUE)
        self._closed = False
        self._lock = threading.Lock()
        self._init_file()
        self._writer = threading.Thread(target=self._write_loop, name="records-writer", daemon=True)
        self._writer.start()
        atexit.register(self.close)

    # -- connection ------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise _describe(exc, self.path) from exc
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        return conn

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
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RecordsError(
                    f"records file {self.path} was written by a newer version of the bot "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}): upgrade the bot"
                )
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise RecordsError(
                    f"records file {self.path} is corrupted ({check}): move it aside or "
                    "delete it, a new one is created at the next start"
                )
            if version < SCHEMA_VERSION:
                try:
                    conn.executescript(
                        f"BEGIN IMMEDIATE;\n{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
                    )
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            self._purge(conn)
        self._last_purge = time.monotonic()

    # -- writing ---------------------------------------------------------------------------

    def _put(self, item: _Item) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("records queue full, %d record(s) dropped so far", self.dropped)

    def record_vote(self, question: str, source: str | None, vote: int) -> None:
        """Keep one vote (+1 or -1) on the answer ``source`` gave to ``question``."""
        if vote not in (1, -1):
            raise ValueError(f"vote must be +1 or -1, got {vote!r}")
        self._put(_Item("vote", self.clock(), record_form(question), source or "", vote))

    def record_unanswered(self, question: str) -> None:
        """Count one question the bot declined (kept normalised, without personal data)."""
        text = record_form(question)
        if text:
            self._put(_Item("unanswered", self.clock(), text))

    def record_answered(self, source: str | None = None) -> None:
        """Count one answered question (a number per day and source; no text is kept)."""
        self._put(_Item("answered", self.clock(), source=source or ""))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every record queued so far is written (or dropped); True when done."""
        if self._closed or not self._writer.is_alive():
            return True
        done = threading.Event()
        try:
            self._queue.put(_Item("flush", 0.0, done=done), timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self) -> None:
        """Write what is queued, stop the writer thread. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(None)
        self._writer.join(timeout=10)
        atexit.unregister(self.close)

    def purge(self) -> int:
        """Delete everything older than the retention period now; return the rows deleted."""
        with self._reading() as conn:
            return self._purge(conn)

    def _purge(self, conn: sqlite3.Connection) -> int:
        cutoff = self.clock() - self.retention_days * DAY
        cutoff_day = _day(cutoff)
        conn.execute("BEGIN IMMEDIATE")
        try:
            n = conn.execute("DELETE FROM votes WHERE ts < ?", (cutoff,)).rowcount
            n += conn.execute("DELETE FROM unanswered WHERE last_seen < ?", (cutoff,)).rowcount
            n += conn.execute("DELETE FROM answered WHERE day < ?", (cutoff_day,)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if n:
            log.info("records: %d row(s) older than %d days deleted", n, self.retention_days)
        return n

    def _write_loop(self) -> None:
        conn: sqlite3.Connection | None = None
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
                if len(batch) >= 500:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                if conn is None:
                    conn = self._connect()
                if batch:
                    self._write(conn, batch)
                if time.monotonic() - self._last_purge >= self.purge_every_s:
                    self._last_purge = time.monotonic()
                    self._purge(conn)
                self.last_error = None
            except (sqlite3.Error, RecordsError) as exc:
                err = exc if isinstance(exc, RecordsError) else _describe(exc, self.path)
                self.last_error = err
                log.error("%d record(s) not stored: %s", len(batch), err)
                if conn is not None:
                    conn.close()
                conn = None
            for w in waiters:
                w.set()
        if conn is not None:
            conn.close()

    def _write(self, conn: sqlite3.Connection, batch: list[_Item]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for it in batch:
                if it.kind == "vote":
                    conn.execute(
                        "INSERT INTO votes (ts, question, source, vote) VALUES (?, ?, ?, ?)",
                        (it.ts, it.question, it.source, it.vote),
                    )
                elif it.kind == "unanswered":
                    conn.execute(
                        "INSERT INTO unanswered (question, day, count, first_seen, last_seen) "
                        "VALUES (?, ?, 1, ?, ?) ON CONFLICT (question, day) DO UPDATE SET "
                        "count = count + 1, first_seen = min(first_seen, excluded.first_seen), "
                        "last_seen = max(last_seen, excluded.last_seen)",
                        (it.question, _day(it.ts), it.ts, it.ts),
                    )
                elif it.kind == "answered":
                    conn.execute(
                        "INSERT INTO answered (day, source, count) VALUES (?, ?, 1) "
                        "ON CONFLICT (day, source) DO UPDATE SET count = count + 1",
                        (_day(it.ts), it.source),
                    )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- reading ---------------------------------------------------------------------------

    def summary(self, since: timedelta = timedelta(days=30), limit: int = 10) -> Summary:
        """Top unanswered questions, most disliked answers and the answer rate since ``since``
        ago. Raises RecordsError when the file cannot be read."""
        now = self.clock()
        start_ts = now - since.total_seconds()
        start_day = _day(start_ts)
        weekly = since > timedelta(days=31)
        with self._reading() as conn:
            top = [
                UnansweredQuestion(
                    q,
                    int(n),
                    datetime.fromtimestamp(first, UTC),
                    datetime.fromtimestamp(last, UTC),
                )
                for q, n, first, last in conn.execute(
                    "SELECT question, SUM(count) AS n, MIN(first_seen), MAX(last_seen) "
                    "FROM unanswered WHERE last_seen >= ? GROUP BY question "
                    "ORDER BY n DESC, MAX(last_seen) DESC, question LIMIT ?",
                    (start_ts, limit),
                )
            ]
            served = dict(
                conn.execute(
                    "SELECT source, SUM(count) FROM answered WHERE day >= ? GROUP BY source",
                    (start_day,),
                ).fetchall()
            )
            disliked = []
            for source, down, up in conn.execute(
                "SELECT source, SUM(vote < 0) AS down, SUM(vote > 0) AS up FROM votes "
                "WHERE ts >= ? GROUP BY source HAVING down > 0 "
                "ORDER BY down DESC, up ASC, source LIMIT ?",
                (start_ts, limit),
            ).fetchall():
                questions = tuple(
                    q
                    for (q,) in conn.execute(
                        "SELECT question FROM votes WHERE ts >= ? AND source = ? AND vote < 0 "
                        "GROUP BY question ORDER BY COUNT(*) DESC, MAX(ts) DESC LIMIT 3",
                        (start_ts, source),
                    )
                )
                disliked.append(
                    DislikedAnswer(
                        source, int(down), int(up), int(served.get(source, 0)), questions
                    )
                )
            up_total, down_total = conn.execute(
                "SELECT COALESCE(SUM(vote > 0), 0), COALESCE(SUM(vote < 0), 0) FROM votes "
                "WHERE ts >= ?",
                (start_ts,),
            ).fetchone()
            per_day: dict[str, list[int]] = {}
            for day, n in conn.execute(
                "SELECT day, SUM(count) FROM answered WHERE day >= ? GROUP BY day", (start_day,)
            ):
                per_day.setdefault(day, [0, 0])[0] = int(n)
            for day, n in conn.execute(
                "SELECT day, SUM(count) FROM unanswered WHERE day >= ? GROUP BY day",
                (start_day,),
            ):
                per_day.setdefault(day, [0, 0])[1] = int(n)
        periods = _periods(per_day, weekly)
        return Summary(
            start=datetime.fromtimestamp(start_ts, UTC),
            end=datetime.fromtimestamp(now, UTC),
            answered=sum(v[0] for v in per_day.values()),
            unanswered=sum(v[1] for v in per_day.values()),
            up=int(up_total),
            down=int(down_total),
            top_unanswered=tuple(top),
            disliked=tuple(disliked),
            periods=periods,
            by="semaine" if weekly else "jour",
            retention_days=self.retention_days,
        )

    def dump(self) -> dict[str, list[tuple[object, ...]]]:
        """Every stored row, table by table (for audits and tests)."""
        with self._reading() as conn:
            return {
                table: conn.execute(f"SELECT * FROM {table}").fetchall()
                for table in ("votes", "unanswered", "answered")
            }


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


def open_records(settings: Settings) -> Records:
    """Open (or create) the records file in BOT_DATA_DIR; RecordsError when unusable."""
    return Records(records_path(settings), retention_days=settings.retention_days)
