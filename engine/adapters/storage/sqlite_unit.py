"""SqliteUnitOfWork: one transaction on a connection borrowed from a SqliteStore.

Every statement is a named one from `sql/sqlite_queries.sql`; every sqlite3
error becomes a StorageError. See `sqlite.py` for the locking model.
"""

import sqlite3
from collections.abc import Sequence as Seq
from dataclasses import replace
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from engine.adapters.storage import sqlite_codec as codec
from engine.adapters.storage.catalog_cache import UNCHECKED, CatalogReads
from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.named_sql import sorted_name
from engine.app.ports import (
    EnrollmentFilter,
    FailureRule,
    Lease,
    OutboxMessage,
    Page,
    SequenceFilter,
    StoredResponse,
    TaskFilter,
)
from engine.domain.account import Account, ApiToken, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ResourceType
from engine.domain.sequence import Sequence, Step
from engine.domain.task import Task

if TYPE_CHECKING:
    from engine.adapters.storage.sqlite import SqliteStore


class SqliteUnitOfWork(CatalogReads):  # get_account, get_user, get_token, get_sequence
    _codec = codec

    def __init__(self, store: "SqliteStore", *, read_only: bool = False) -> None:
        self._store, self._sql, self._read_only = store, store.sql, read_only
        self._conn: sqlite3.Connection | None = None
        self._in_transaction = self._locked = False
        self._new_steps: dict[tuple[Step, ...], int] = {}  # step lists added, not yet committed
        # enrollment ids in this transaction (EnrollmentIds): (the largest handed out or
        # saved, the largest handed out, the largest saved, how many handed out)
        self._ids: EnrollmentIds = NO_IDS
        self._saved: tuple[dict[tuple[Step, ...], int], object, EnrollmentIds] = \
            ({}, UNCHECKED, NO_IDS)
        # the catalog version this transaction reads at (None: it changed the catalog
        # itself, so it reads around the cache); checked on its first catalog read
        self._catalog_at: int | object | None = UNCHECKED

    # -- the transaction --------------------------------------------------------

    def __enter__(self) -> "SqliteUnitOfWork":
        if self._conn is not None:
            raise RuntimeError("this unit of work is already open")
        self._conn = self._store.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        reusable = True
        try:
            if self._in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error as error:
            reusable = False  # its state is unknown: never hand it out again
            if exc_type is None:
                raise StorageError(f"rollback failed: {error}") from error
        finally:
            self._end()
            self._store.release(conn, reusable=reusable)

    def commit(self) -> None:
        if not self._in_transaction:
            return
        _, handed, saved, _ = self._ids
        if handed > saved:  # an id handed out and not saved must stay spent
            self._write("remember_id", {"kind": "enrollment", "id": handed})
        try:
            self._connection().execute("COMMIT")
        except sqlite3.Error as error:
            raise StorageError(f"commit failed: {error}") from error
        self._store.step_ids.update(self._new_steps)
        self._end()

    def _end(self) -> None:
        self._in_transaction = False
        self._new_steps.clear()
        self._catalog_at = UNCHECKED
        self._ids = NO_IDS
        if self._locked:
            self._locked = False
            self._store.write_lock.release()

    # -- savepoints (the write batch's isolation of one job from the others) ------------

    def write_mark(self) -> int | None:
        """Rows changed on this connection so far (the write batch's test of whether a
        failed job changed anything), beginning the write transaction if it has not
        begun; None if SQLite rolled the transaction back on its own (a full disk...)."""
        conn = self._begin(True)  # (an id handed out counts: the allocator's change)
        return conn.total_changes + self._ids[3] if conn.in_transaction else None

    def savepoint(self) -> None:
        """Mark where the next job of a write batch begins (engine/adapters/storage/
        write_batch.py); the transaction is begun first, with its write lock."""
        conn = self._begin(True)
        if not conn.in_transaction:  # SQLite rolled it back (a full disk...): a savepoint
            raise StorageError("the transaction was rolled back")  # would begin anew
        self._saved = (dict(self._new_steps), self._catalog_at, self._ids)
        self._run_plain(conn, "SAVEPOINT job")

    def release_savepoint(self) -> None:
        self._run_plain(self._connection(), "RELEASE job")

    def rollback_to_savepoint(self) -> None:
        """Undo everything since savepoint(), in the database and in this unit's own
        bookkeeping (step lists it added, whether it wrote the catalog)."""
        conn = self._connection()
        self._run_plain(conn, "ROLLBACK TO job")
        self._run_plain(conn, "RELEASE job")
        self._new_steps, self._catalog_at, self._ids = self._saved

    @staticmethod
    def _run_plain(conn: sqlite3.Connection, statement: str) -> None:
        try:
            conn.execute(statement)
        except sqlite3.Error as error:
            raise StorageError(f"{statement} failed: {error}") from error

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("use a unit of work inside its `with` block")
        return self._conn

    def _begin(self, writing: bool) -> sqlite3.Connection:
        conn = self._connection()
        if writing and self._read_only:
            raise RuntimeError("this unit of work is read-only")
        if not self._in_transaction:
            if not self._read_only:
                if not self._store.write_lock.acquire(timeout=self._store.busy_timeout):
                    raise StorageError("timed out waiting for this process's other writer")
                self._locked = True
            try:
                conn.execute("BEGIN" if self._read_only else "BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                self._end()
                raise StorageError(f"cannot begin a transaction: {error}") from error
            self._in_transaction = True
        return conn

    def _rows(self, name: str, params: dict[str, Any]) -> list[sqlite3.Row]:
        try:
            return self._begin(False).execute(self._sql[name], params).fetchall()
        except sqlite3.Error as error:
            raise StorageError(f"{name} failed: {error}") from error

    def _tuples(self, name: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """_rows as plain tuples (hashable: the enrollment decoding cache's keys)."""
        try:
            cursor = self._begin(False).cursor()
            cursor.row_factory = None
            return cursor.execute(self._sql[name], params).fetchall()
        except sqlite3.Error as error:
            raise StorageError(f"{name} failed: {error}") from error

    def _row(self, name: str, params: dict[str, Any]) -> sqlite3.Row | None:
        rows = self._rows(name, params)
        return rows[0] if rows else None

    def _write(self, name: str, params: dict[str, Any]) -> int:
        """Run one write; returns how many rows it changed."""
        try:
            return self._begin(True).execute(self._sql[name], params).rowcount
        except sqlite3.Error as error:
            raise StorageError(f"{name} failed: {error}") from error

    def _write_returning(self, name: str, params: dict[str, Any]) -> Any:
        try:
            return self._begin(True).execute(self._sql[name], params).fetchall()[0][0]
        except sqlite3.Error as error:
            raise StorageError(f"{name} failed: {error}") from error

    # -- ids ----------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        if kind == "enrollment":
            return self._next_enrollment_id()
        value: int = self._write_returning("next_id", {"kind": kind})
        return value

    def _next_enrollment_id(self) -> int:
        """next_id("enrollment") without writing the allocator's row on every create
        (a statement, and one more page in the create's commit): enrollments are never
        deleted, so one more than the largest id saved or handed out is never an id
        handed out before. Read once a transaction, under its write lock; counted on
        from there; the allocator is written at commit only if the largest id handed
        out was not saved (commit())."""
        top, _, saved, count = self._ids
        if count == 0:  # (a read in the write transaction: read-only units refuse it)
            top = self._write_returning("enrollment_id_top", {})
        top += 1
        self._ids = (top, top, saved, count + 1)
        return top

    def id_taken(self, kind: str, object_id: int) -> bool:
        row = self._row("id_taken", {"kind": kind, "id": object_id})
        return bool(row is not None and row["taken"])

    # -- accounts, users, tokens (through the catalog cache) -------------------------

    def _catalog_write(self, name: str, params: dict[str, Any]) -> None:
        self._write(name, params)
        self._catalog_at = None  # newer than any cache now: read around it until commit

    def save_account(self, account: Account) -> None:
        self._catalog_write("save_account", codec.account_params(account))

    def get_users(self, user_ids: Seq[int]) -> list[User]:
        found = (self.get_user(i) for i in dict.fromkeys(user_ids))
        return [user for user in found if user is not None]

    def save_user(self, user: User) -> None:
        self._catalog_write("save_user", codec.user_params(user))

    def list_users(self, account_id: int, page: Page) -> list[User]:
        rows = self._rows("list_users", {"account_id": account_id, **_page(page)})
        return [codec.user_from(row) for row in rows]

    def save_token(self, token: ApiToken) -> None:
        self._catalog_write("save_token", codec.token_params(token))

    # -- sequences and their step lists -----------------------------------------------

    def _steps_id(self, steps: tuple[Step, ...]) -> int:
        """The id of this step list, stored once however many objects share it."""
        found = self._store.step_ids.get(steps) or self._new_steps.get(steps)
        if found is not None:
            return found
        body = codec.steps_body(steps)
        row = self._row("find_step_list", {"body": body})
        if row is not None:  # not one of ours (those are in _new_steps): committed
            self._store.step_ids[steps] = row["id"]
            return int(row["id"])
        new_id: int = self._write_returning("add_step_list", {"body": body})
        self._new_steps[steps] = new_id
        return new_id

    def save_sequence(self, sequence: Sequence) -> None:
        params = codec.sequence_params(sequence, self._steps_id(sequence.steps))
        self._catalog_write("save_sequence", params)

    def list_sequences(
        self, account_id: int, where: SequenceFilter, page: Page
    ) -> list[Sequence]:
        params = {
            "account_id": account_id,
            "ids": codec.json_ids(where.ids),
            "name": where.name,
            **_page(page),
        }
        rows = self._rows(sorted_name("list_sequences", where.sort), params)
        return [codec.sequence_from(row) for row in rows]

    # -- enrollments --------------------------------------------------------------------

    @property
    def _decode(self) -> Any:
        """Readers (the HTTP GETs) decode through the decoded-rows cache; writers (the
        scheduler's records, updates) read rows they are about to change, so they
        decode directly and leave the cache, and its memory, to the reads it serves."""
        return codec.cached_enrollment_from if self._read_only else codec.enrollment_from

    def get_enrollment(self, account_id: int, enrollment_id: int) -> Enrollment | None:
        rows = self._tuples("get_enrollment", {"id": enrollment_id, "account_id": account_id})
        return self._decode(rows[0]) if rows else None

    def enrollment_stamp(self, account_id: int, enrollment_id: int) -> tuple[Any, ...]:
        """The catalog version and the enrollment's row as stored, its step list's body
        too (NULLs without it): equal stamps render equal GET one answers
        (engine/adapters/http/fast_get.py, which reads the same alone in autocommit)."""
        return self._tuples("enrollment_stamp",
                            {"id": enrollment_id, "account_id": account_id})[0]

    def save_enrollment(self, enrollment: Enrollment) -> None:
        params = codec.enrollment_params(enrollment, self._steps_id(enrollment.steps))
        self._write("save_enrollment", params)
        top, handed, saved, count = self._ids
        if top:  # ids are counted on in this transaction: past a chosen one too
            found = enrollment.id
            self._ids = (max(top, found), handed, max(saved, found), count)

    def list_enrollments(
        self, account_id: int, where: EnrollmentFilter, page: Page
    ) -> list[Enrollment]:
        decode = self._decode
        return [decode(row) for row in self.enrollment_rows(account_id, where, page)]

    def enrollment_rows(
        self, account_id: int, where: EnrollmentFilter, page: Page
    ) -> list[tuple[Any, ...]]:
        """list_enrollments' rows as stored (GET a page's memo,
        engine/adapters/http/page_memo.py: equal rows at an equal catalog version render
        an equal page)."""
        params = {
            "account_id": account_id,
            "ids": codec.json_ids(where.ids),
            "resource_ids": codec.json_ids(where.resource_ids),
            "resource_type": _value(where.resource_type),
            "sequence_id": where.sequence_id,
            "state": _value(where.state),
            **_page(page),
        }
        return self._tuples(sorted_name("list_enrollments", where.sort), params)

    def catalog_version(self) -> int | None:
        """The catalog version this transaction reads at (None: it wrote the catalog)."""
        return self._catalog_version()

    def enrollments_version(self) -> int:
        """The enrollments version this transaction reads at (migration 4: bumped by
        every write a page of enrollments shows; engine/adapters/http/page_memo.py)."""
        return int(self._tuples("enrollments_version", {})[0][0])

    def ongoing_enrollments(
        self,
        account_id: int,
        *,
        resource: tuple[ResourceType, int] | None = None,
        sequence_ids: Seq[int] | None = None,
        actor_id: int | None = None,
    ) -> list[Enrollment]:
        params: dict[str, Any] = {
            "account_id": account_id,
            "sequence_ids": codec.json_ids(sequence_ids),
            "actor_id": actor_id,
        }
        if resource is None:
            rows = self._rows("ongoing_for_account", params)
        else:
            params["resource_type"], params["resource_id"] = resource[0].value, resource[1]
            rows = self._rows("ongoing_for_resource", params)
        return [codec.enrollment_from(row) for row in rows]

    def due_enrollments(self, now: datetime, limit: int) -> list[Enrollment]:
        rows = self._rows("due_enrollments", {"now": codec.to_micros(now), "limit": limit})
        return [codec.enrollment_from(row) for row in rows]

    def claim_due(
        self, worker: str, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Enrollment, Lease]]:
        # BEGIN IMMEDIATE holds the write lock: no other worker sees these rows due
        # until this transaction ends, and then they carry this worker's lease
        due = self.due_enrollments(now, limit)
        if not due:
            return []
        until_micros = codec.to_micros(until)
        try:
            rows = self._begin(True).execute(self._sql["claim_due"], {
                "worker": worker, "now": codec.to_micros(now), "until": until_micros,
                "limit": limit}).fetchall()
        except sqlite3.Error as error:
            raise StorageError(f"claim_due failed: {error}") from error
        seqs = {row["id"]: row["claim_seq"] for row in rows}
        taken = []
        for enrollment in due:
            enrollment.due_at = until
            lease = Lease(enrollment.id, enrollment.account_id, worker, seqs[enrollment.id], until)
            taken.append((enrollment, lease))
        return taken

    def renew_leases(self, leases: Seq[Lease], until: datetime) -> list[Lease]:
        micros = codec.to_micros(until)
        return [
            replace(lease, until=until)
            for lease in leases
            if self._write("renew_lease", {**_lease_key(lease), "until": micros})
        ]

    def lease_holds(self, lease: Lease, now: datetime) -> bool:
        return self._row("lease_holds", {**_lease_key(lease), "now": codec.to_micros(now)}) \
            is not None

    def release_lease(self, lease: Lease) -> bool:
        return self._write("release_lease", _lease_key(lease)) == 1

    def end_leases(self, leases: Seq[Lease]) -> None:
        for lease in leases:
            self.release_lease(lease)

    def next_due_at(self) -> datetime | None:
        row = self._row("next_due_at", {})
        return None if row is None else codec.opt_instant(row["due_at"])

    def count_due(self, now: datetime) -> int:
        row = self._row("count_due", {"now": codec.to_micros(now)})
        return 0 if row is None else int(row["n"])

    # -- tasks ------------------------------------------------------------------------------

    def get_task(self, account_id: int, task_id: int) -> Task | None:
        row = self._row("get_task", {"id": task_id, "account_id": account_id})
        return None if row is None else codec.task_from(row)

    def save_task(self, task: Task) -> None:
        self._write("save_task", codec.task_params(task))

    def delete_task(self, task: Task) -> None:
        # a deleted id is still spent: next_id must not hand it out again
        self._write("remember_id", {"kind": "task", "id": task.id})
        self._write("delete_task", {"id": task.id, "account_id": task.account_id})

    def list_tasks(self, account_id: int, where: TaskFilter, page: Page) -> list[Task]:
        params = {
            "account_id": account_id,
            "ids": codec.json_ids(where.ids),
            "resource_type": _value(where.resource_type),
            "resource_id": where.resource_id,
            "completed": where.completed,
            **_page(page),
        }
        return [codec.task_from(row)
                for row in self._rows(sorted_name("list_tasks", where.sort), params)]

    # -- sending limits, idempotent responses, outbox, failure rules ---------------------

    def count_sends(self, scope: str, owner_id: int, day: date) -> int:
        row = self._row("count_sends", _send_key(scope, owner_id, day))
        return 0 if row is None else int(row["count"])

    def count_sends_many(self, keys: Seq[tuple[str, int, date]], *, lock: bool = True,
                         ) -> list[int]:
        return [self.count_sends(*key) for key in keys]  # the write lock covers them all

    def add_send(self, scope: str, owner_id: int, day: date, delta: int = 1) -> None:
        self._write("add_send", {**_send_key(scope, owner_id, day), "delta": delta})

    def add_sends(self, keys: Seq[tuple[str, int, date]], deltas: Seq[int]) -> list[int]:
        for key, delta in zip(keys, deltas, strict=True):
            self.add_send(*key, delta=delta)
        return self.count_sends_many(keys)

    def get_idempotent(self, account_id: int, key: str) -> StoredResponse | None:
        row = self._row("get_idempotent", {"account_id": account_id, "key": key})
        return None if row is None else codec.response_from(row)

    def save_idempotent(self, account_id: int, key: str, response: StoredResponse) -> None:
        self._write("save_idempotent", {"account_id": account_id, "key": key,
                                        "status": response.status, "body": response.body})

    def add_outbox_message(self, message: OutboxMessage) -> bool:
        return self._write("add_outbox_message", codec.outbox_params(message)) == 1

    def put_outbox_message(self, message: OutboxMessage) -> None:
        self.add_outbox_message(message)

    def list_outbox(self, account_id: int, page: Page) -> list[OutboxMessage]:
        rows = self._rows("list_outbox", {"account_id": account_id, **_page(page)})
        return [codec.outbox_from(row) for row in rows]

    def failure_rules(self, account_id: int) -> list[FailureRule]:
        return [codec.rule_from(row)
                for row in self._rows("failure_rules", {"account_id": account_id})]

    def set_failure_rule(self, rule: FailureRule) -> None:
        self._write("set_failure_rule", codec.rule_params(rule))

    def clear_failure_rules(self, account_id: int) -> None:
        self._write("clear_failure_rules", {"account_id": account_id})


EnrollmentIds = tuple[int, int, int, int]
NO_IDS: EnrollmentIds = (0, 0, 0, 0)


def _page(page: Page) -> dict[str, int]:
    return {"limit": page.size, "offset": page.offset}


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


def _lease_key(lease: Lease) -> dict[str, Any]:
    return {"id": lease.enrollment_id, "worker": lease.worker, "seq": lease.seq}


def _send_key(scope: str, owner_id: int, day: date) -> dict[str, Any]:
    return {"scope": scope, "owner_id": owner_id, "day": codec.day_text(day)}
