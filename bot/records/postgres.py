"""The store in PostgreSQL (``DATABASE_URL``): psycopg 3 and its connection pool.

Every process of the app (``web``, ``worker``, ``tchap``, a one-off ``sync``) shares it: the
records, the dedupe keys of Slack's retries and the registry copy. Same interface and same
behaviour as the SQLite store (:class:`bot.records.store.Store`); a commit is durable before a
receipt says ``ok`` (PostgreSQL's default ``synchronous_commit = on``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.errors import RecordsError
from bot.records.schema import Migration
from bot.records.store import _CLAIM, PURGE_EVERY_S, Store, _Item

POOL_MIN = 1
POOL_MAX = 8  # the writer thread, dedupe checks (threads), reads: a handful is plenty
CONNECT_TIMEOUT_S = 10.0
_LOCK_ID = 0x62657461  # "beta": advisory lock held while migrating
_PLACEHOLDER = re.compile(r"\?")

Connection = psycopg.Connection[TupleRow]


def redact(url: str) -> str:
    """The database URL without its password (for messages and logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "DATABASE_URL"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(Store[Connection]):
    """The store in a PostgreSQL database (see the module docstring)."""

    kind = "postgres"
    db_errors = (psycopg.Error, PoolTimeout)
    upsert_unanswered = (
        "INSERT INTO unanswered (question, day, count, first_seen, last_seen) "
        "VALUES (?, ?, 1, ?, ?) ON CONFLICT (question, day) DO UPDATE SET "
        "count = unanswered.count + 1, "
        "first_seen = LEAST(unanswered.first_seen, excluded.first_seen), "
        "last_seen = GREATEST(unanswered.last_seen, excluded.last_seen)"
    )

    def __init__(
        self,
        url: str,
        retention_days: int = 90,
        *,
        pool_max: int = POOL_MAX,
        purge_every_s: float = PURGE_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(retention_days, clock=clock, purge_every_s=purge_every_s)
        self.url = url
        self.pool = ConnectionPool(
            url,
            min_size=POOL_MIN,
            max_size=pool_max,
            kwargs={"autocommit": True, "connect_timeout": int(CONNECT_TIMEOUT_S)},
            open=False,
            name="betagouv-bot",
        )
        try:
            # One plain connection first: an unreachable server fails now, with its reason,
            # rather than after the pool's retries.
            psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except (psycopg.Error, PoolTimeout) as exc:
            self.pool.close()
            raise RecordsError(
                f"cannot connect to the database {redact(url)} (DATABASE_URL): {_first_line(exc)}"
            ) from exc
        try:
            with self._guard():
                self._start()
        except BaseException:
            self.pool.close()
            raise

    def describe(self) -> str:
        return redact(self.url)

    def _error(self, exc: Exception) -> RecordsError:
        if isinstance(exc, PoolTimeout):
            return RecordsError(
                f"the database {self.describe()} did not give a connection in time "
                f"({_first_line(exc)}); records are skipped meanwhile, answers keep flowing"
            )
        if isinstance(exc, psycopg.OperationalError):
            return RecordsError(
                f"the database {self.describe()} cannot be reached ({_first_line(exc)}); "
                "records are skipped meanwhile, answers keep flowing"
            )
        return RecordsError(f"database {self.describe()}: {_first_line(exc)}")

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with self.pool.connection(timeout=CONNECT_TIMEOUT_S) as conn:
            yield conn

    @contextmanager
    def _writer_connection(self) -> Iterator[Connection]:
        with self._connection() as conn:
            yield conn

    @contextmanager
    def _transaction(self, conn: Connection) -> Iterator[None]:
        with conn.transaction():
            yield

    @contextmanager
    def _relaxed_transaction(self, conn: Connection) -> Iterator[None]:
        with conn.transaction():
            # the server keeps the commit even if this process dies; only a server crash in
            # the next few hundred milliseconds could lose these keys
            conn.execute("SET LOCAL synchronous_commit TO OFF")
            yield

    def _execute(
        self, conn: Connection, sql: str, params: tuple[object, ...] = ()
    ) -> psycopg.Cursor[TupleRow]:
        return conn.execute(_PLACEHOLDER.sub("%s", sql), params)

    def _execute_many(self, conn: Connection, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        with conn.cursor() as cursor:
            cursor.executemany(_PLACEHOLDER.sub("%s", sql), rows)  # pipelined: one round trip

    def _claim(self, conn: Connection, claims: list[_Item]) -> None:
        """Every key of the batch in one round trip; the keys that come back are new."""
        now = time.time()
        sql = _PLACEHOLDER.sub("%s", _CLAIM) + " RETURNING key"
        new: set[str] = set()
        with conn.cursor() as cursor:
            cursor.executemany(
                sql, [(it.question, now + it.ttl, now) for it in claims], returning=True
            )
            while True:
                new.update(str(row[0]) for row in cursor.fetchall())
                if not cursor.nextset():
                    break
        seen: set[str] = set()
        for it in claims:  # the same key twice in a batch: only its first claim is new
            it.first = it.question in new and it.question not in seen
            seen.add(it.question)

    def _close_connections(self) -> None:
        self.pool.close()

    def schema_version(self) -> int:
        with self._guard(), self._connection() as conn:
            exists = conn.execute("SELECT to_regclass('schema_version')").fetchone()
            if exists is None or exists[0] is None:
                return 0
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
            return int(row[0]) if row else 0

    def _apply(self, migrations: tuple[Migration, ...]) -> list[Migration]:
        with self._guard(), self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
            current = int(row[0]) if row else 0
            todo = [m for m in migrations if m.version > current]
            for m in todo:
                conn.execute(m.postgres.encode("utf-8"))
                conn.execute(
                    "INSERT INTO schema_version (version, description) VALUES (%s, %s)",
                    (m.version, m.description),
                )
        return todo


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
