"""The SQLite file: where it is, how a connection to it is opened, and its schema.

Every connection runs in WAL mode (readers never block the writer), with a
busy timeout (a writer waits for another process's write instead of failing
at once) and foreign keys on. sqlite3's own transaction handling is turned off
(`isolation_level=None`): SqliteStore issues BEGIN/COMMIT/ROLLBACK itself.
"""

import sqlite3
from functools import cache
from pathlib import Path

from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.named_sql import (
    Migration,
    migrations,
    named_statements,
    read_sql,
    sort_orders,
    with_sorts,
)

MIN_SQLITE = (3, 35, 0)  # RETURNING, UPSERT, json_each
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
# The WAL pages after which a COMMIT checkpoints them (SQLite's own default: 1000). A
# short WAL makes each checkpoint short, and a checkpoint runs inside a COMMIT, before
# anyone in a group commit is answered: POST create served ~5.3k rps with a p99 of 14-16
# ms at 100 pages against ~4.5k and 20-28 ms at 1000 (same runs), while the scheduler's
# burn-down, whose claims write more pages a COMMIT, drained ~15-25% fewer steps a
# second (docs/storage.md, Pragmas).
WAL_AUTOCHECKPOINT = 100

ORDERS = sort_orders()


@cache
def queries() -> dict[str, str]:
    """The named statements, each list once per whitelisted sort."""
    return with_sorts(named_statements(read_sql("sqlite_queries.sql")), ORDERS)


@cache
def schema() -> tuple[Migration, ...]:
    return migrations(read_sql("sqlite_schema.sql"))


def sqlite_path(path_or_url: str) -> str:
    """`sqlite:///relative.db`, `sqlite:////abs/path.db` or a plain path, as a file path."""
    path = path_or_url
    if path.startswith("sqlite:"):
        if not path.startswith("sqlite:///"):
            raise ValueError(f"not a SQLite URL: {path_or_url!r} (use sqlite:///file.db)")
        path = path.removeprefix("sqlite:///").split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        raise ValueError(
            f"{path_or_url!r}: SqliteStore needs a database file (use MemoryStore for memory)"
        )
    return str(Path(path))


def connect(
    path: str, *, busy_timeout: float, synchronous: str, wal_autocheckpoint: int,
) -> sqlite3.Connection:
    """A connection ready for SqliteStore's transactions (may be used by any one thread)."""
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
    if type(wal_autocheckpoint) is not int or wal_autocheckpoint < 1:
        raise ValueError(f"wal_autocheckpoint must be a whole number of pages >= 1, not "
                         f"{wal_autocheckpoint!r}")
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StorageError(
            f"SQLite {sqlite3.sqlite_version} is too old: {'.'.join(map(str, MIN_SQLITE))}+"
            " is needed"
        )
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False,
            cached_statements=256,
        )
    except sqlite3.Error as error:
        raise StorageError(f"cannot open the database {path}: {error}") from error
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise StorageError(f"the database {path} cannot use WAL mode (journal_mode {mode})")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {wal_autocheckpoint}")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException as error:
        conn.close()
        if isinstance(error, sqlite3.Error):
            raise StorageError(f"cannot open the database {path}: {error}") from error
        raise
    return conn


def migrate(conn: sqlite3.Connection, steps: tuple[Migration, ...] | None = None) -> int:
    """Create or upgrade the schema in one transaction; returns the version in place.

    Idempotent, and safe when several processes start at once: the write lock
    is taken first, so the second one finds the work done."""
    steps = schema() if steps is None else steps
    sql = queries()
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(sql["create_schema_version"])
            current: int = conn.execute(sql["schema_version"]).fetchone()[0]
            if current > len(steps):
                raise StorageError(
                    f"the database schema is at version {current}, newer than this engine's "
                    f"{len(steps)}: upgrade the engine"
                )
            for step in steps[current:]:
                for statement in split_statements(step.script):
                    conn.execute(statement)
                conn.execute(sql["record_migration"],
                             {"version": step.version, "description": step.description})
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as error:
        raise StorageError(f"cannot migrate the database: {error}") from error
    return max(current, len(steps))


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version in place, 0 for a file without the schema (nothing is written)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    return int(conn.execute(queries()["schema_version"]).fetchone()[0]) if found else 0


def newest_instant(conn: sqlite3.Connection) -> int | None:
    """The latest instant any recorded change carries (microseconds), None when empty:
    a simulated clock must not start before it."""
    row = conn.execute(queries()["newest_instant"]).fetchone()
    return None if row[0] is None else int(row[0])


def split_statements(script: str) -> list[str]:
    """A script's statements, one by one (executescript would COMMIT on its own)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        line.strip().startswith("--") or not line.strip() for line in pending.splitlines()
    ):
        raise ValueError(f"unterminated statement in migration: {pending.strip()[:60]!r}")
    return statements
