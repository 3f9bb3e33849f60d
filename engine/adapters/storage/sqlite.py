"""SqliteStore: the embedded backend, one database file shared by threads and processes.

Transactions. Every unit of work is one transaction, begun on first use (and
again after each commit) with BEGIN IMMEDIATE: it takes SQLite's write lock
before its first read, so two workers can never both read a row, change it
and write it back (no lost updates, and no SQLITE_BUSY half-way through a
transaction). Writers in this process queue on a Python lock first, so they
wake as soon as the previous one is done instead of sleeping in SQLite's busy
handler; writers in other processes wait up to `busy_timeout`. Leaving the
`with` block without commit() rolls back. `unit_of_work(read_only=True)`
opens a plain snapshot instead, which runs beside the writer (WAL) and
refuses writes. `run_batched(work)` commits concurrent writes of this process
together (group commit, write_batch.py): enrollment creates use it.

Durability: `synchronous=NORMAL` in WAL mode, SQLite's usual choice: a COMMIT
appends to the WAL without an fsync (checkpoints fsync), so a committed
transaction survives any crash or kill of the process, not a power loss
(`synchronous="FULL"`: one fsync per commit). Group commit changes nothing
there: every caller is answered after the COMMIT its write is in.

Connections. Units of work borrow a connection from a small pool and give it
back when they end; a thread may run one unit of work at a time (nesting is
refused: it would wait for its own lock). close() closes them all.
"""

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from engine.adapters.storage.catalog_cache import CatalogCache
from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.sqlite_codec import from_micros
from engine.adapters.storage.sqlite_database import (
    WAL_AUTOCHECKPOINT,
    connect,
    migrate,
    newest_instant,
    queries,
    schema_version,
    sqlite_path,
)
from engine.adapters.storage.sqlite_unit import SqliteUnitOfWork
from engine.adapters.storage.write_batch import WriteBatcher
from engine.domain.sequence import Step

__all__ = ["SqliteStore", "SqliteUnitOfWork", "StorageError"]

T = TypeVar("T")


class SqliteStore:
    def __init__(
        self,
        path_or_url: str,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "NORMAL",
        pool_size: int = 8,
        wal_autocheckpoint: int = WAL_AUTOCHECKPOINT,
        migrate_schema: bool = True,
    ) -> None:
        """Open (creating if needed) the database file and bring its schema up to date.

        `synchronous="NORMAL"` (the WAL default) survives any crash of the process;
        "FULL" also survives power loss, at one fsync per commit. `wal_autocheckpoint`:
        the WAL pages after which a COMMIT copies them back (`WAL_AUTOCHECKPOINT`)."""
        self.path = sqlite_path(path_or_url)
        self.busy_timeout, self.synchronous, self.pool_size = busy_timeout, synchronous, pool_size
        self.wal_autocheckpoint = wal_autocheckpoint
        self.sql = queries()
        self.write_lock = threading.Lock()
        self.step_ids: dict[tuple[Step, ...], int] = {}  # committed step lists, never deleted
        self.catalog = CatalogCache()  # accounts, users, tokens, sequences (catalog_cache.py)
        self._idle: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._owners: dict[int, int] = {}  # id(connection) -> thread ident, while lent
        self._closed = False
        self._batcher = WriteBatcher(self.unit_of_work)
        if migrate_schema:
            try:
                self.migrate()
            except BaseException:
                self.close()
                raise

    def unit_of_work(self, *, read_only: bool = False) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self, read_only=read_only)

    def run_batched(self, work: Callable[[SqliteUnitOfWork], T]) -> T:
        """`work` in a write transaction, committed before this returns, together with
        the work other threads of this process hand in meanwhile (group commit,
        engine/adapters/storage/write_batch.py): its result, or the exception it (or
        the shared COMMIT) raised. `work` may run on another thread."""
        return self._batcher.run(work)

    def snapshot_rows(self, name: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Statement `name` alone, in autocommit: one statement is one snapshot, without
        the BEGIN and ROLLBACK of a unit of work (GET one's fast path,
        engine/adapters/http/fast_get.py). Rows as plain tuples."""
        # no owner: a statement alone never nests, and holds no lock once it has
        # returned its rows
        conn = self._take(None)
        try:
            cursor = conn.cursor()
            cursor.row_factory = None
            return cursor.execute(self.sql[name], params).fetchall()
        except sqlite3.Error as error:
            raise StorageError(f"{name} failed: {error}") from error
        finally:
            self.release(conn)

    def migrate(self) -> int:
        """Create or upgrade the schema (idempotent); returns the schema version."""
        conn = self.acquire()
        try:
            return migrate(conn)
        finally:
            self.release(conn)

    def schema_version(self) -> int:
        """The schema version in place (0: none yet), without migrating."""
        conn = self.acquire()
        try:
            return schema_version(conn)
        finally:
            self.release(conn)

    def newest_instant(self) -> datetime | None:
        """The latest instant recorded by any change (None for an empty database)."""
        conn = self.acquire()
        try:
            micros = newest_instant(conn)
        finally:
            self.release(conn)
        return None if micros is None else from_micros(micros)

    def close(self) -> None:
        """Close every idle connection now, and each busy one as its unit of work ends."""
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> "SqliteStore":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the pool --------------------------------------------------------------

    def acquire(self) -> sqlite3.Connection:
        """A connection for the calling thread, which must not hold one already."""
        return self._take(threading.get_ident())

    def _take(self, owner: int | None) -> sqlite3.Connection:
        """An idle connection or a new one, recorded as `owner`'s (None: nobody's)."""
        with self._pool_lock:
            if self._closed:
                raise StorageError(f"the store for {self.path} is closed")
            if owner is not None and owner in self._owners.values():
                raise RuntimeError(
                    "a unit of work is already open on this thread: SqliteStore runs one "
                    "transaction per thread at a time (nested, it would wait for its own lock)"
                )
            conn = self._idle.pop() if self._idle else None
            if conn is not None and owner is not None:
                self._owners[id(conn)] = owner
        if conn is None:
            conn = connect(self.path, busy_timeout=self.busy_timeout,
                           synchronous=self.synchronous,
                           wal_autocheckpoint=self.wal_autocheckpoint)
            if owner is not None:
                with self._pool_lock:
                    self._owners[id(conn)] = owner
        return conn

    def release(self, conn: sqlite3.Connection, *, reusable: bool = True) -> None:
        with self._pool_lock:
            self._owners.pop(id(conn), None)
            if reusable and not self._closed and len(self._idle) < self.pool_size:
                self._idle.append(conn)
                return
        conn.close()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"
