"""PostgresTransaction: the transaction a PostgresUnitOfWork runs its statements in.

One connection borrowed from the store's pool for the `with` block; BEGIN on
first use; every psycopg error becomes a StorageError (`translate`). Round
trips: a BEGIN, and writes whose result nobody reads, are deferred and sent
with the next statement or the COMMIT, in one round trip (pipeline mode); the
server runs them in the same order, taking the same locks, as if each had been
awaited, and a failure among them shows at that next statement.
"""

from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import psycopg
from psycopg.rows import dict_row

from engine.adapters.storage.postgres_database import translate
from engine.domain.sequence import Step

if TYPE_CHECKING:
    from engine.adapters.storage.postgres import PostgresStore


class PostgresTransaction:
    """The transaction under a PostgresUnitOfWork: its connection, BEGIN/COMMIT/
    ROLLBACK, the statements it runs and the ones it defers."""

    def __init__(self, store: "PostgresStore", *, read_only: bool = False) -> None:
        self._store, self._read_only = store, read_only
        self._sql = store.sql_locked if not read_only else store.sql
        self._conn: psycopg.Connection[Any] | None = None
        self._cur: psycopg.Cursor[dict[str, Any]] | None = None
        self._in_transaction = False
        # statements not sent yet (a BEGIN, writes nobody reads the result of): they
        # go with the next statement, in one round trip (pipeline mode)
        self._deferred: list[tuple[str, dict[str, Any] | None]] = []
        self._new_steps: dict[tuple[Step, ...], int] = {}  # step lists added, not yet committed

    # -- the transaction --------------------------------------------------------

    def __enter__(self) -> "Self":
        if self._conn is not None:
            raise RuntimeError("this unit of work is already open")
        self._conn = self._store.acquire()
        self._cur = self._conn.cursor(row_factory=dict_row)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn, self._cur = self._conn, None, None
        if conn is None:
            return
        try:
            unsent = bool(self._deferred) and self._deferred[0][1] is None  # BEGIN not sent
            if self._in_transaction and not unsent:
                conn.execute("ROLLBACK")
        except psycopg.Error as error:
            if exc_type is None:
                raise translate(error, "rollback") from error
        finally:
            self._in_transaction = False
            self._deferred.clear()
            self._new_steps.clear()
            self._ended()
            self._store.release(conn)

    def commit(self) -> None:
        if not self._in_transaction:
            return
        self._before_send()
        conn = self._connection()
        try:
            if self._deferred:
                with conn.pipeline():
                    self._send_deferred()
                    conn.execute("COMMIT")
            else:
                conn.execute("COMMIT")
        except psycopg.Error as error:
            raise translate(error, "commit") from error
        finally:
            self._in_transaction = False
            self._deferred.clear()
            self._ended()
        self._store.step_ids.update(self._new_steps)
        self._new_steps.clear()

    def _ended(self) -> None:
        """Called when the transaction ends (committed or rolled back): a hook for state
        that lives as long as one transaction."""

    def _before_send(self) -> None:
        """Called before any statement or the COMMIT is sent: a hook to add writes
        gathered since (to `_deferred`, with `_defer`)."""

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise RuntimeError("use a unit of work inside its `with` block")
        return self._conn

    def _cursor(self, writing: bool) -> psycopg.Cursor[dict[str, Any]]:
        conn = self._connection()
        if writing and self._read_only:
            raise RuntimeError("this unit of work is read-only")
        assert self._cur is not None
        if not self._in_transaction:
            begin = self._store.begin_reading if self._read_only else self._store.begin
            if ";" in begin:  # a host's SET LOCAL too: several statements, not pipelined
                try:
                    conn.execute(begin)
                except psycopg.Error as error:
                    raise translate(error, "begin") from error
            else:
                self._deferred.append((begin, None))  # goes with the first statement
            self._in_transaction = True
        return self._cur

    def _execute(self, name: str, params: dict[str, Any], *, writing: bool = False,
                 ) -> psycopg.Cursor[dict[str, Any]]:
        """Run a statement, after the ones deferred (in one round trip with them)."""
        self._before_send()
        cur = self._cursor(writing)
        try:
            if not self._deferred:
                cur.execute(self._sql[name], params)
                return cur
            with self._connection().pipeline():
                self._send_deferred()
                cur.execute(self._sql[name], params)
            return cur
        except psycopg.Error as error:
            raise translate(error, name) from error
        finally:
            self._deferred.clear()

    def _send_deferred(self) -> None:
        """Queue the deferred statements on the pipeline open on the connection."""
        conn = self._connection()
        with conn.cursor() as cur:
            for text, params in self._deferred:
                cur.execute(text, params)

    def _defer(self, name: str, params: dict[str, Any]) -> None:
        """A write whose result nobody reads: sent with the next statement or the commit,
        in order, so the server runs (and locks) exactly as if sent now. A failure
        shows at that next statement, which rolls the unit back just the same."""
        self._cursor(True)
        self._deferred.append((self._sql[name], params))

    def _rows(self, name: str, params: dict[str, Any], *, writing: bool = False,
              ) -> list[dict[str, Any]]:
        cur = self._execute(name, params, writing=writing)
        try:
            return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as error:
            raise translate(error, name) from error

    def _row(self, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        rows = self._rows(name, params)
        return rows[0] if rows else None

    def _write(self, name: str, params: dict[str, Any]) -> int:
        """Run one write; returns how many rows it changed."""
        return self._execute(name, params, writing=True).rowcount

    def _write_returning(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._rows(name, params, writing=True)
