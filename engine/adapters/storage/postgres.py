"""PostgresStore: the server backend, shared by any number of API and worker processes.

Transactions. Every unit of work is one transaction on one pooled connection,
begun on first use (and again after each commit); leaving the `with` block
without commit() rolls back. Write units run at READ COMMITTED; read-only
units at REPEATABLE READ READ ONLY (one consistent snapshot for a page and
the sequences and users it shows; never blocks, never blocks a writer).

No lost updates at READ COMMITTED. A read-modify-write is safe when the row
read cannot change before the write commits. So, in a write unit:
- enrollments, tasks and tokens are read `FOR UPDATE` (they are read to be
  changed): a second unit reading the same row waits for the first to commit,
  then reads the committed row;
- accounts, users and sequences (read-mostly: a use case decides on them)
  are read `FOR SHARE`: they cannot change until the reader commits. Two
  units that both read and then write the same one deadlock, and PostgreSQL
  aborts one of them: StorageConflict, nothing kept, safe to retry;
- rows that do not exist yet cannot be locked, so creation is ordered by
  locks on something that does exist: ids come from the per-kind allocator
  row (an upsert, locked until commit), and a caller's chosen id first pushes
  that row past it; "at most one ongoing enrollment per resource and
  sequence" is checked after a transaction-scoped advisory lock on the
  (account, resource), so two creates for one resource run one after the
  other and the second sees the first's row. (No unique index backs it: the
  rule is the use case's, and stores accept whatever they are given.)
- a send counter is created if missing and locked when read, so the check
  against a daily limit and the increment after it are not split; a claim
  locks all the counters of its batch at once, in key order
  (`count_sends_many`), so claimers running side by side never deadlock. A
  claim far from its limits reads them unlocked instead (`lock=False`) and
  adds its sends with `add_sends`, in key order, as its last statement before
  COMMIT: the new totals it returns are read under the row lock, and one past
  its limit rolls the claim back (limits.SendCountRaced) to run again locked;
- the scheduler's reads skip rows another transaction holds
  (`FOR UPDATE SKIP LOCKED`), and `claim_due` leases them in one statement.

Round trips. A unit of work sends its BEGIN, and writes whose result nobody
reads (save_enrollment, add_send), with its next statement or its COMMIT, in
one round trip (psycopg's pipeline mode): the server runs them in the same
order, taking the same locks, as if each had been awaited.
Serialization failures, deadlocks and lock timeouts (`lock_timeout`) raise
StorageConflict; every other driver error StorageError (postgres_database).

Embedding. Give the host's own `psycopg_pool.ConnectionPool` (the store then
never closes it) and a schema name; all tables live in that schema, which the
store puts on the search_path of each of its transactions. `migrate()` (or the
module-level `migrate(connection, schema=...)`, for the host's migration
step) creates or upgrades it. Connections are used in autocommit mode with
explicit BEGIN/COMMIT; a host connection's own mode is restored when it goes
back to the pool.

Due-work wake-up. A trigger sends NOTIFY on '<schema>_due' when an
enrollment's due_at is set or moved earlier; `listen_due(wake)` runs LISTEN
on a connection of its own in a daemon thread and calls wake() for each.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from engine.adapters.storage.catalog_cache import CatalogCache
from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.postgres_database import (
    BEGIN,
    BEGIN_READING,
    checked_schema,
    locked,
    queries,
    set_statement,
    settings,
    translate,
)
from engine.adapters.storage.postgres_database import migrate as migrate_connection
from engine.adapters.storage.postgres_unit import PostgresUnitOfWork
from engine.domain.sequence import Step

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresStore", "PostgresUnitOfWork", "StorageError", "migrate"]


def _application_name(conninfo: str) -> dict[str, str]:
    """Name our sessions after this process in pg_stat_activity, unless the URL does."""
    import os

    from psycopg.conninfo import conninfo_to_dict

    if "application_name" in conninfo_to_dict(conninfo):
        return {}
    return {"application_name": f"seqengine-{os.getpid()}"}


def migrate(connection: "psycopg.Connection[Any]", schema: str = "seqengine") -> int:
    """Create or upgrade the engine's tables in `schema` on the host's connection."""
    return migrate_connection(connection, schema)


class PostgresStore:
    def __init__(
        self,
        conninfo: str | None = None,
        *,
        pool: "ConnectionPool[Any] | None" = None,
        schema: str = "seqengine",
        migrate_schema: bool = True,
        pool_size: int = 10,
        lock_timeout: float = 5.0,
        idle_in_transaction_timeout: float = 60.0,
        connect_timeout: float = 30.0,
    ) -> None:
        """Connect with `conninfo` (a postgresql:// URL or key=value string) through a
        pool of up to `pool_size` connections, or use the host's `pool`."""
        if (conninfo is None) == (pool is None):
            raise ValueError("PostgresStore needs a conninfo or a pool (exactly one)")
        self.schema = checked_schema(schema)
        self.sql = queries()
        self.sql_locked = {name: locked(name, text) for name, text in self.sql.items()}
        self.step_ids: dict[tuple[Step, ...], int] = {}  # committed step lists, never deleted
        self.catalog = CatalogCache()  # for read-only units (postgres_unit.py)
        self.connect_timeout = connect_timeout
        self._settings = settings(schema, lock_timeout, idle_in_transaction_timeout)
        self._owns_pool = pool is None
        self._closed = False
        self._listeners: list[Callable[[], None]] = []
        self._host_modes: set[int] = set()  # host connections we switched to autocommit
        if pool is None:
            self.begin, self.begin_reading = BEGIN, BEGIN_READING
            pool = self._open_pool(str(conninfo), pool_size)
        else:  # the host's sessions keep their own settings: ours are per transaction
            local = set_statement(self._settings, local=True)
            self.begin, self.begin_reading = f"{BEGIN}; {local}", f"{BEGIN_READING}; {local}"
        self.pool: ConnectionPool[Any] = pool
        if migrate_schema:
            try:
                self.migrate()
            except BaseException:
                self.close()
                raise

    def _open_pool(self, conninfo: str, size: int) -> "ConnectionPool[Any]":
        import psycopg
        from psycopg_pool import ConnectionPool

        session = set_statement({**self._settings, "TimeZone": "'UTC'"}, local=False)

        def configure(conn: psycopg.Connection[Any]) -> None:
            conn.execute(session)

        try:  # fail fast, with the server's own words, on a wrong URL or a server down
            psycopg.connect(conninfo, connect_timeout=max(1, int(self.connect_timeout))).close()
        except psycopg.Error as error:
            raise translate(error, "connecting to PostgreSQL") from error
        pool: ConnectionPool[Any] = ConnectionPool(
            conninfo, min_size=1, max_size=max(1, size), open=False, configure=configure,
            kwargs={"autocommit": True, **_application_name(conninfo)},
            timeout=self.connect_timeout, name="seqengine")
        try:
            pool.open(wait=True, timeout=self.connect_timeout)
        except Exception as error:  # PoolTimeout: the server is unreachable or refuses us
            pool.close()
            raise StorageError(f"cannot connect to PostgreSQL: {error}") from error
        return pool

    def unit_of_work(self, *, read_only: bool = False) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self, read_only=read_only)

    def migrate(self) -> int:
        """Create or upgrade the schema (idempotent); returns the schema version."""
        conn = self.acquire()
        try:
            return migrate_connection(conn, self.schema)
        finally:
            self.release(conn)

    def schema_version(self) -> int:
        """The schema version in place (0: none yet), without migrating."""
        conn = self.acquire()
        try:
            found = conn.execute("SELECT to_regclass(%s)",
                                 (f'"{self.schema}".schema_version',)).fetchone()
            if found is None or found[0] is None:
                return 0
            row = conn.execute(f'SELECT coalesce(max(version), 0) FROM "{self.schema}"'
                               ".schema_version").fetchone()
            return int(row[0]) if row is not None else 0
        finally:
            self.release(conn)

    def newest_instant(self) -> datetime | None:
        """The latest instant recorded by any change (None for an empty database)."""
        with self.unit_of_work(read_only=True) as uow:
            return uow.newest_instant()

    def listen_due(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake()` whenever due work appears or moves sooner; returns a stop function.

        LISTEN runs on a connection of its own (not one of the pool's), in a daemon
        thread that reconnects when the connection drops and wakes once after each
        reconnect, since notifications sent meanwhile were lost. Returns once LISTEN
        is in place (or after connect_timeout, the thread still trying), so every
        change committed after it returns wakes."""
        from engine.adapters.storage.postgres_listener import DueListener

        conninfo, kwargs = self.pool.conninfo, self.pool.kwargs  # either may be a callable
        listener = DueListener(conninfo() if callable(conninfo) else conninfo,
                               (kwargs() if callable(kwargs) else kwargs) or {},
                               f"{self.schema}_due", wake)
        listener.start()
        listener.listening.wait(self.connect_timeout)
        self._listeners.append(listener.stop)
        return listener.stop

    def close(self) -> None:
        """Stop the listeners and close the pool (unless it is the host's)."""
        self._closed = True
        for stop in self._listeners:
            stop()
        self._listeners.clear()
        if self._owns_pool and getattr(self, "pool", None) is not None:
            self.pool.close()

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the pool --------------------------------------------------------------

    def acquire(self) -> "psycopg.Connection[Any]":
        """A connection in autocommit mode, outside any transaction."""
        import psycopg

        if self._closed:
            raise StorageError(f"the store for schema {self.schema} is closed")
        try:
            conn: psycopg.Connection[Any] = self.pool.getconn(timeout=self.connect_timeout)
        except Exception as error:  # PoolTimeout, PoolClosed
            raise StorageError(f"no database connection: {error}") from error
        if not conn.autocommit:  # the host's pool: remember its mode and restore it
            try:
                conn.rollback()
                conn.autocommit = True
            except psycopg.Error as error:
                self.pool.putconn(conn)
                raise translate(error, "preparing a connection") from error
            self._host_modes.add(id(conn))
        return conn

    def release(self, conn: "psycopg.Connection[Any]") -> None:
        if id(conn) in self._host_modes:
            self._host_modes.discard(id(conn))
            if not conn.closed:
                with contextlib.suppress(Exception):  # broken: the pool drops it anyway
                    conn.autocommit = False
        self.pool.putconn(conn)

    def __repr__(self) -> str:
        return f"PostgresStore(schema={self.schema!r})"

