"""PostgresUnitOfWork: one transaction on a connection borrowed from a PostgresStore.

Every statement is a named one from `sql/postgres_queries.sql`; every psycopg
error becomes a StorageError in one place (`postgres_database.translate`).
The locking model (why there are no lost updates under READ COMMITTED) is
stated in `postgres.py`; `postgres_database.LOCKS` is that model, statement by
statement.
"""

from collections.abc import Sequence as Seq
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from engine.adapters.storage import postgres_codec as codec
from engine.adapters.storage.catalog_cache import UNCHECKED, CatalogReads
from engine.adapters.storage.named_sql import sorted_name
from engine.adapters.storage.postgres_transaction import PostgresTransaction
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
    from engine.adapters.storage.postgres import PostgresStore


class PostgresUnitOfWork(PostgresTransaction, CatalogReads):
    """The store's port over a PostgresTransaction; get_account, get_user, get_token
    and get_sequence come from CatalogReads."""

    _codec = codec

    def __init__(self, store: "PostgresStore", *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        # read-only units read the catalog through the store's cache, at the version their
        # snapshot holds; write units read it FOR SHARE, as the locking model needs
        self._catalog_at: int | object | None = UNCHECKED if read_only else None
        self._rules: dict[int, list[FailureRule]] = {}  # failure_rules read, per account
        self._outbox: list[OutboxMessage] = []  # put_outbox_message, not yet deferred

    def _ended(self) -> None:
        self._catalog_at = UNCHECKED if self._read_only else None  # a new snapshot next
        self._rules.clear()
        self._outbox.clear()

    def _before_send(self) -> None:
        if self._outbox:  # the messages put since the last statement, as one insert
            self._defer("add_outbox_messages", codec.outbox_columns(self._outbox))
            self._outbox.clear()

    # -- ids ----------------------------------------------------------------------

    def next_id(self, kind: str) -> int:
        return int(self._write_returning("next_id", {"kind": kind})[0]["last_id"])

    def id_taken(self, kind: str, object_id: int) -> bool:
        if not self._read_only:
            # push the allocator past the chosen id first: its row lock orders this
            # check after every other allocation of `kind`, and next_id can no
            # longer hand the id out while this unit decides to use it
            self._write("remember_id", {"kind": kind, "id": object_id})
        row = self._row("id_taken", {"kind": kind, "id": object_id})
        return bool(row is not None and row["taken"])

    # -- accounts, users, tokens ----------------------------------------------------

    def save_account(self, account: Account) -> None:
        self._write("save_account", codec.account_params(account))

    def get_users(self, user_ids: Seq[int]) -> list[User]:
        if not user_ids:
            return []
        rows = self._rows("get_users", {"ids": list(dict.fromkeys(user_ids))})
        return [codec.user_from(row) for row in rows]

    def save_user(self, user: User) -> None:
        self._write("save_user", codec.user_params(user))

    def list_users(self, account_id: int, page: Page) -> list[User]:
        rows = self._rows("list_users", {"account_id": account_id, **_page(page)})
        return [codec.user_from(row) for row in rows]

    def save_token(self, token: ApiToken) -> None:
        self._write("save_token", codec.token_params(token))

    # -- sequences and their step lists -----------------------------------------------

    def _steps_id(self, steps: tuple[Step, ...]) -> int:
        """The id of this step list, stored once however many objects share it."""
        found = self._store.step_ids.get(steps) or self._new_steps.get(steps)
        if found is not None:
            return found
        body = codec.steps_body(steps)
        row = self._row("find_step_list", {"body": body})
        if row is not None:  # committed by someone: safe to remember for good
            self._store.step_ids[steps] = int(row["id"])
            return int(row["id"])
        new_id = int(self._write_returning("add_step_list", {"body": body})[0]["id"])
        self._new_steps[steps] = new_id
        return new_id

    def save_sequence(self, sequence: Sequence) -> None:
        params = codec.sequence_params(sequence, self._steps_id(sequence.steps))
        self._write("save_sequence", params)

    def list_sequences(
        self, account_id: int, where: SequenceFilter, page: Page
    ) -> list[Sequence]:
        params = {"account_id": account_id, "ids": codec.id_list(where.ids),
                  "name": where.name, **_page(page)}
        rows = self._rows(sorted_name("list_sequences", where.sort), params)
        return [codec.sequence_from(row) for row in rows]

    # -- enrollments --------------------------------------------------------------------

    @property
    def _decode(self) -> Any:
        """Read-only units decode through the decoded-rows cache, writers directly (see
        SqliteUnitOfWork._decode)."""
        return codec.cached_enrollment_from if self._read_only else codec.enrollment_from

    def get_enrollment(self, account_id: int, enrollment_id: int) -> Enrollment | None:
        row = self._row("get_enrollment", {"id": enrollment_id, "account_id": account_id})
        return None if row is None else self._decode(row)

    def save_enrollment(self, enrollment: Enrollment) -> None:
        params = codec.enrollment_params(enrollment, self._steps_id(enrollment.steps))
        self._defer("save_enrollment", params)

    def list_enrollments(
        self, account_id: int, where: EnrollmentFilter, page: Page
    ) -> list[Enrollment]:
        params = {
            "account_id": account_id,
            "ids": codec.id_list(where.ids),
            "resource_ids": codec.id_list(where.resource_ids),
            "resource_type": _value(where.resource_type),
            "sequence_id": where.sequence_id,
            "state": _value(where.state),
            **_page(page),
        }
        rows = self._rows(sorted_name("list_enrollments", where.sort), params)
        decode = self._decode
        return [decode(row) for row in rows]

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
            "sequence_ids": codec.id_list(sequence_ids),
            "actor_id": actor_id,
        }
        if resource is None:
            rows = self._rows("ongoing_for_account", params)
        else:
            if not self._read_only:
                # one writer per resource at a time: a create that checks "nothing
                # ongoing" then inserts cannot interleave with another one's check
                # (row locks cannot cover a row that does not exist yet)
                key = codec.advisory_key("resource", account_id, resource[0].value, resource[1])
                self._rows("lock_key", {"key": key})
            params["resource_type"], params["resource_id"] = resource[0].value, resource[1]
            rows = self._rows("ongoing_for_resource", params)
        return [codec.enrollment_from(row) for row in rows]

    def due_enrollments(self, now: datetime, limit: int) -> list[Enrollment]:
        rows = self._rows("due_enrollments", {"now": codec.instant(now), "limit": limit})
        return [codec.enrollment_from(row) for row in rows]

    def next_due_at(self) -> datetime | None:
        row = self._row("next_due_at", {})
        return None if row is None else codec.opt_utc(row["due_at"])

    def count_due(self, now: datetime) -> int:
        row = self._row("count_due", {"now": codec.instant(now)})
        return 0 if row is None else int(row["n"])

    def newest_instant(self) -> datetime | None:
        row = self._row("newest_instant", {})
        return None if row is None else codec.opt_utc(row["newest"])

    # -- claims ---------------------------------------------------------------------------

    def claim_due(self, worker: str, now: datetime, until: datetime, limit: int,
                  ) -> list[tuple[Enrollment, Lease]]:
        rows = self._write_returning("claim_due", {
            "worker": worker, "now": codec.instant(now), "until": codec.instant(until),
            "limit": limit})
        rows.sort(key=lambda r: (r["was_due"], r["id"]))  # RETURNING keeps no order
        return [(codec.enrollment_from(r), Lease(r["id"], r["account_id"], worker,
                                                  r["claim_seq"], until)) for r in rows]

    def renew_leases(self, leases: Seq[Lease], until: datetime) -> list[Lease]:
        if not leases:
            return []
        rows = self._write_returning("renew_leases", {
            "until": codec.instant(until), "ids": [lease.enrollment_id for lease in leases],
            "seqs": [lease.seq for lease in leases], "workers": [lease.worker for lease in leases]})
        return sorted((codec.lease_from(r, until) for r in rows),
                      key=lambda lease: lease.enrollment_id)

    def lease_holds(self, lease: Lease, now: datetime) -> bool:
        row = self._row("lease_holds", {"id": lease.enrollment_id, "seq": lease.seq,
                                        "worker": lease.worker, "now": codec.instant(now)})
        return bool(row is not None and row["holds"])

    def release_lease(self, lease: Lease) -> bool:
        return self._write("release_lease", _lease_key(lease)) == 1

    def end_leases(self, leases: Seq[Lease]) -> None:
        if leases:
            self._defer("end_leases", {"ids": [lease.enrollment_id for lease in leases],
                                       "seqs": [lease.seq for lease in leases],
                                       "workers": [lease.worker for lease in leases]})

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
            "ids": codec.id_list(where.ids),
            "resource_type": _value(where.resource_type),
            "resource_id": where.resource_id,
            "completed": where.completed,
            **_page(page),
        }
        rows = self._rows(sorted_name("list_tasks", where.sort), params)
        return [codec.task_from(row) for row in rows]

    # -- sending limits, idempotent responses, outbox, failure rules ---------------------

    def count_sends(self, scope: str, owner_id: int, day: date) -> int:
        key = codec.send_key(scope, owner_id, day)
        if self._read_only:
            row = self._row("count_sends", key)
        else:  # lock the counter: the limit check and the add_send after it stay together
            row = self._write_returning("count_sends_locked", key)[0]
        return 0 if row is None else int(row["count"])

    def count_sends_many(self, keys: Seq[tuple[str, int, date]], *, lock: bool = True,
                         ) -> list[int]:
        if not keys:
            return []
        found = {(r["scope"], r["owner_id"], r["day"]): int(r["count"]) for r in (
            self._rows("count_sends_many", _send_keys(keys)) if self._read_only or not lock
            else self._write_returning("count_sends_many_locked", _send_keys(keys)))}
        return [found.get(key, 0) for key in keys]

    def add_send(self, scope: str, owner_id: int, day: date, delta: int = 1) -> None:
        self._defer("add_send", {**codec.send_key(scope, owner_id, day), "delta": delta})

    def add_sends(self, keys: Seq[tuple[str, int, date]], deltas: Seq[int]) -> list[int]:
        if not keys:
            return []
        rows = self._write_returning("add_sends", {**_send_keys(keys), "deltas": list(deltas)})
        found = {(r["scope"], r["owner_id"], r["day"]): int(r["count"]) for r in rows}
        return [found[key] for key in keys]

    def get_idempotent(self, account_id: int, key: str) -> StoredResponse | None:
        row = self._row("get_idempotent", {"account_id": account_id, "key": key})
        return None if row is None else codec.response_from(row)

    def save_idempotent(self, account_id: int, key: str, response: StoredResponse) -> None:
        self._write("save_idempotent", {"account_id": account_id, "key": key,
                                        "status": response.status, "body": response.body})

    def add_outbox_message(self, message: OutboxMessage) -> bool:
        return self._write("add_outbox_message", codec.outbox_params(message)) == 1

    def put_outbox_message(self, message: OutboxMessage) -> None:
        self._cursor(True)  # a write: refused in a read-only unit, and begins the transaction
        self._outbox.append(message)

    def list_outbox(self, account_id: int, page: Page) -> list[OutboxMessage]:
        rows = self._rows("list_outbox", {"account_id": account_id, **_page(page)})
        return [codec.outbox_from(row) for row in rows]

    def failure_rules(self, account_id: int) -> list[FailureRule]:
        # read once per transaction (a batch's sends all ask): its sends see one set of
        # rules, as if made at the first; this unit's own changes drop the copy
        found = self._rules.get(account_id)
        if found is None:
            found = self._rules[account_id] = [codec.rule_from(row) for row in self._rows(
                "failure_rules", {"account_id": account_id})]
        return list(found)

    def set_failure_rule(self, rule: FailureRule) -> None:
        self._rules.pop(rule.account_id, None)
        self._write("set_failure_rule", codec.rule_params(rule))

    def clear_failure_rules(self, account_id: int) -> None:
        self._rules.pop(account_id, None)
        self._write("clear_failure_rules", {"account_id": account_id})


def _lease_key(lease: Lease) -> dict[str, Any]:
    return {"id": lease.enrollment_id, "seq": lease.seq, "worker": lease.worker}


def _send_keys(keys: Seq[tuple[str, int, date]]) -> dict[str, list[Any]]:
    return {"scopes": [k[0] for k in keys], "owners": [k[1] for k in keys],
            "days": [k[2] for k in keys]}


def _page(page: Page) -> dict[str, int]:
    return {"limit": page.size, "offset": page.offset}


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)
