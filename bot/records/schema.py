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


# The column types that differ between the two databases; a migration's SQL is written once
# with ``{real}`` (a timestamp in seconds) and ``{smallint}`` where they differ.
_TYPES = {
    "sqlite": {"real": "REAL", "smallint": "INTEGER"},
    "postgres": {"real": "DOUBLE PRECISION", "smallint": "SMALLINT"},
}


def _migration(version: int, description: str, sql: str) -> Migration:
    """One migration from its SQL written once, in both databases' column types."""
    return Migration(
        version,
        description,
        sqlite=sql.format(**_TYPES["sqlite"]),
        postgres=sql.format(**_TYPES["postgres"]),
    )


MIGRATIONS: tuple[Migration, ...] = (
    _migration(
        1,
        "records: votes, unanswered questions, answered counts",
        """
CREATE TABLE IF NOT EXISTS votes (
    ts {real} NOT NULL,
    question TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    vote {smallint} NOT NULL CHECK (vote IN (-1, 1))
);
CREATE INDEX IF NOT EXISTS votes_ts ON votes (ts);
CREATE TABLE IF NOT EXISTS unanswered (
    question TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen {real} NOT NULL,
    last_seen {real} NOT NULL,
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
    _migration(
        2,
        "shared dedupe keys (with an expiry) and the registry copy",
        """
CREATE TABLE IF NOT EXISTS dedupe (
    key TEXT PRIMARY KEY,
    expires {real} NOT NULL
);
CREATE INDEX IF NOT EXISTS dedupe_expires ON dedupe (expires);
CREATE TABLE IF NOT EXISTS registry_copy (
    name TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    stamp TEXT NOT NULL,
    updated_at {real} NOT NULL
);
""",
    ),
)

LATEST = MIGRATIONS[-1].version


def pending(current: int) -> tuple[Migration, ...]:
    """The migrations a database at version ``current`` still needs, in order."""
    return tuple(m for m in MIGRATIONS if m.version > current)
