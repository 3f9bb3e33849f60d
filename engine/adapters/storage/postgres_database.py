"""The PostgreSQL database: its named SQL, its schema, its session settings, its errors.

Session settings. Every transaction PostgresStore runs has:
- `search_path` = the store's schema only, so the named SQL never names it;
- `lock_timeout` (5 s by default): a transaction that waits longer for a row
  lock gives up with StorageConflict and is retried, instead of queueing
  behind a stuck one forever;
- `idle_in_transaction_session_timeout` (60 s by default): the engine never
  holds a transaction open across I/O, so a session idle that long inside a
  transaction belongs to a stuck or paused process; PostgreSQL ends it and
  its locks go.
On connections of the store's own pool they are session settings, set once per
connection; on a host's pool they are `SET LOCAL` at the start of each
transaction, so the host's sessions are left as they were.

Errors. `translate` is the one place where psycopg's exceptions become
StorageError: a serialization failure, a deadlock or a lock timeout becomes
StorageConflict (safe to retry at once), anything else StorageError.
"""

import re
from functools import cache
from typing import Any

from engine.adapters.storage.errors import StorageConflict, StorageError
from engine.adapters.storage.named_sql import (
    Migration,
    migrations,
    named_statements,
    read_sql,
    sort_orders,
    with_sorts,
)

SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,58}")  # leaves room for the '_due' channel suffix
# serialization_failure, deadlock_detected, lock_not_available
CONFLICTS = frozenset({"40001", "40P01", "55P03"})
MIGRATION_LOCK = 0x5E9E4E1  # pg_advisory_xact_lock key (with the schema's hash) for migrate()


ORDERS = sort_orders(' COLLATE "C"')  # names sort by code point, as on SQLite


@cache
def queries() -> dict[str, str]:
    """The named statements, each list once per whitelisted sort."""
    return with_sorts(named_statements(read_sql("postgres_queries.sql")), ORDERS)


@cache
def schema() -> tuple[Migration, ...]:
    return migrations(read_sql("postgres_schema.sql"))


def checked_schema(name: str) -> str:
    if SCHEMA_NAME.fullmatch(name) is None:
        raise ValueError(
            f"schema name {name!r}: use lower-case letters, digits and _ (at most 59)")
    return name


def settings(schema_name: str, lock_timeout: float, idle_timeout: float) -> dict[str, str]:
    """Session settings as SQL values (the schema name is checked, so quoting is safe)."""
    return {
        "search_path": f'"{checked_schema(schema_name)}"',
        "lock_timeout": f"'{int(lock_timeout * 1000)}ms'",
        "idle_in_transaction_session_timeout": f"'{int(idle_timeout * 1000)}ms'",
    }


def set_statement(values: dict[str, str], *, local: bool) -> str:
    """`SET [LOCAL] name = value; ...` for values built by `settings`."""
    scope = "LOCAL " if local else ""
    return "; ".join(f"SET {scope}{name} = {value}" for name, value in values.items())


def translate(error: Exception, doing: str) -> StorageError:
    """The engine's error for a driver error (chain it: `raise translate(e) from e`)."""
    state = getattr(error, "sqlstate", None)
    kind = StorageConflict if state in CONFLICTS else StorageError
    return kind(f"{doing} failed: {str(error).strip() or type(error).__name__}")


def migrate(connection: Any, schema_name: str = "seqengine",
            steps: tuple[Migration, ...] | None = None) -> int:
    """Create or upgrade the schema `schema_name` on a psycopg connection; returns its version.

    For a host's own migration step. On an idle connection it runs in one
    transaction of its own; inside the host's transaction (Alembic, Django) it
    joins it as a savepoint and the host commits. Either way it holds an
    advisory lock, so several processes starting at once apply each migration
    once, and leaves the connection's search_path as it found it. Idempotent."""
    import psycopg
    from psycopg import sql

    name = checked_schema(schema_name)
    steps = schema() if steps is None else steps
    named = queries()
    current = 0
    try:
        with connection.transaction():
            cur = connection.cursor()
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                        (MIGRATION_LOCK, name))
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(name)))
            cur.execute("SELECT current_setting('search_path')")
            (outer_path,) = cur.fetchone()
            cur.execute(sql.SQL("SET LOCAL search_path = {}").format(sql.Identifier(name)))
            cur.execute(named["create_schema_version"])
            row = cur.execute(named["schema_version"]).fetchone()
            current = int(row[0])
            if current > len(steps):
                raise StorageError(
                    f"the database schema {name} is at version {current}, newer than this "
                    f"engine's {len(steps)}: upgrade the engine")
            for step in steps[current:]:
                cur.execute(step.script.encode())  # several statements: simple query protocol
                cur.execute(named["record_migration"],
                            {"version": step.version, "description": step.description})
            cur.execute("SELECT set_config('search_path', %s, true)", (outer_path,))
    except psycopg.Error as error:
        raise translate(error, f"migrating the schema {name}") from error
    return max(current, len(steps))


# The locking clause each read gets in a write unit of work. Rows read in order
# to be changed (enrollments, tasks, tokens) are locked FOR UPDATE; read-mostly
# rows a use case decides on (accounts, users, sequences) FOR SHARE, so they
# cannot change until it commits. The scheduler's read skips rows another
# worker holds instead of queueing behind it.
LOCKS = {
    "get_account": "FOR SHARE",
    "get_user": "FOR SHARE",
    "get_users": "FOR SHARE",
    "list_users": "FOR SHARE",
    "get_sequence": "FOR SHARE OF q",
    "list_sequences": "FOR SHARE OF q",
    "get_enrollment": "FOR UPDATE OF e",
    "list_enrollments": "FOR UPDATE OF e",
    "ongoing_for_resource": "FOR UPDATE OF e",
    "ongoing_for_account": "FOR UPDATE OF e",
    "due_enrollments": "FOR UPDATE OF e SKIP LOCKED",
    "get_task": "FOR UPDATE",
    "list_tasks": "FOR UPDATE",
    "get_token": "FOR UPDATE",
}
def locked(name: str, text: str) -> str:
    """The statement as a write unit runs it (sorted lists are named `list_x by ...`)."""
    clause = LOCKS.get(name.split(" by ", 1)[0])
    return text if clause is None else f"{text}\n{clause}"


BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
BEGIN_READING = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"  # one snapshot, no writes
