"""The store's schema, versioned: one list of migrations, each in SQLite's and PostgreSQL's SQL.

A store applies the migrations it lacks when it opens (``python -m bot migrate`` does the same
and says what it did). SQLite keeps its version in ``PRAGMA user_version``; PostgreSQL in the
``schema_version`` table, migrated under an advisory lock so that two processes starting at
once do not race. A database written by a newer bot (a version above the last one here) is
refused with a clear message rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: str
    postgres: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "records: votes, unanswered questions, answered counts",
        sqlite="""
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
""",
        postgres="""
CREATE TABLE IF NOT EXISTS votes (
    ts DOUBLE PRECISION NOT NULL,
    question TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    vote SMALLINT NOT NULL CHECK (vote IN (-1, 1))
);
CREATE INDEX IF NOT EXISTS votes_ts ON votes (ts);
CREATE TABLE IF NOT EXISTS unanswered (
    question TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (question, day)
);
CREATE INDEX IF NOT EXISTS unanswered_day ON unanswered (day);
CREATE TABLE IF NOT EXISTS answered (
    day TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    count INTEGER NOT NULL,
    PRIMARY KEY (day, source)
);
""",
    ),
    Migration(
        2,
        "shared dedupe keys (with an expiry) and the registry copy",
        sqlite="""
CREATE TABLE IF NOT EXISTS dedupe (
    key TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dedupe_expires ON dedupe (expires);
CREATE TABLE IF NOT EXISTS registry_copy (
    name TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    stamp TEXT NOT NULL,
    updated_at REAL NOT NULL
);
""",
        postgres="""
CREATE TABLE IF NOT EXISTS dedupe (
    key TEXT PRIMARY KEY,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS dedupe_expires ON dedupe (expires);
CREATE TABLE IF NOT EXISTS registry_copy (
    name TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    stamp TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
""",
    ),
)

LATEST = MIGRATIONS[-1].version


def pending(current: int) -> tuple[Migration, ...]:
    """The migrations a database at version ``current`` still needs, in order."""
    return tuple(m for m in MIGRATIONS if m.version > current)
