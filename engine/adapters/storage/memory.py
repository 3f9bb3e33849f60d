"""MemoryStore: the in-memory backend for tests and simulation.

Objects are kept live: a unit of work hands out the stored objects themselves,
so changes apply as they are made and commit/rollback do nothing. That is
safe because every use case checks before it changes anything. Isolation is
one re-entrant lock, held by each unit of work from start to end (so a
transaction is atomic to other threads, and nothing is locked between two of
them, e.g. while a send runs); whoever reads the live objects after the unit
ended (the HTTP layer rendering them) holds the same `lock`. A heap of the instants
work is due at, each with a heap of the ids due then (stale entries skipped), finds
due work by `due_at`, then id, in O(log n).
"""

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Seq
from datetime import UTC, date, datetime
from heapq import heappop, heappush
from operator import attrgetter
from types import TracebackType
from typing import Any, TypeVar

from engine.app.in_process import MemoryTables
from engine.app.ports import (
    EnrollmentFilter,
    FailureRule,
    Lease,
    OutboxMessage,
    Page,
    SequenceFilter,
    Sort,
    StoredResponse,
    TaskFilter,
)
from engine.domain.account import Account, ApiToken, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import EnrollmentState, ResourceType
from engine.domain.sequence import Sequence
from engine.domain.task import Task

T = TypeVar("T")
_BLOCKED = EnrollmentState.BLOCKED

# The due index: a heap of the instants enrollments are due at, as plain ints (due_at
# in microseconds since the epoch: an int compare per step of a sift, where a datetime
# costs a method call), and for each instant a heap of the ids due then. Most steps
# are due at an instant others wait for already (a business day's start: 65% of P4's
# pushes), so they go on a small heap of ids; one heap of (due_at, id) keys, pushed
# and popped for every step, cost ~2% more of P4's instructions.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID_LIMIT = 1 << 64  # ids from -2**64 to 2**64 - 1, as before (`_index_new`)
_ID_MIN = -_ID_LIMIT  # computed once: a negation makes a new int each time


# The microseconds since the epoch are summed from the timedelta's fields: the same int
# as `// timedelta(microseconds=1)`, which costs ~60 ns more (a save of each step, P4).
def due_key_at(now: datetime) -> int:
    """`now` as a key of the due index: every enrollment due at or before `now` is due
    at a key <= it."""
    since = now - _EPOCH
    return (since.days * 86400 + since.seconds) * 1_000_000 + since.microseconds


_NO_BOUND = due_key_at(datetime.max.replace(tzinfo=UTC))  # later than any due_at


class MemoryStore:
    due_index = True  # its units of work are engine.app.in_process.DueIndex

    def __init__(self) -> None:
        self.ids: dict[str, int] = defaultdict(int)
        self.accounts: dict[int, Account] = {}
        self.users: dict[int, User] = {}
        self.sequences: dict[int, Sequence] = {}
        self.enrollments: dict[int, Enrollment] = {}
        self.tasks: dict[int, Task] = {}
        self.by_account: dict[int, list[int]] = defaultdict(list)
        self.by_resource: dict[tuple[int, ResourceType, int], list[int]] = defaultdict(list)
        self.due_heap: list[int] = []  # due_key_at(due_at) of the instants in due_ids
        # an instant's key -> a heap of the ids pushed at it, never empty
        self.due_ids: dict[int, list[int]] = {}
        # enrollment id -> (due_at, its key) last pushed: an id popped at another key is
        # stale (the enrollment was pushed again since)
        self.due_pushed: dict[int, tuple[datetime, int]] = {}
        self.sends: dict[tuple[str, int, date], int] = defaultdict(int)
        self.outbox: list[OutboxMessage] = []
        self.outbox_keys: set[str] = set()
        self.rules: dict[int, dict[tuple[ResourceType, int], FailureRule]] = defaultdict(dict)
        self.tokens: dict[str, ApiToken] = {}
        self.responses: dict[tuple[int, str], StoredResponse] = {}
        # enrollment id -> (claimed_by or None once released, claim_seq, claim_until)
        self.claims: dict[int, tuple[str | None, int, datetime | None]] = {}
        self.lock = threading.RLock()
        self._uow = MemoryUnitOfWork(self)

    def unit_of_work(self, *, read_only: bool = False) -> "MemoryUnitOfWork":
        return self._uow

    def close(self) -> None:
        return None


class MemoryUnitOfWork:
    """Stateless apart from the store, so one object serves every thread."""

    def __init__(self, store: MemoryStore) -> None:
        self.s = store
        # the store's tables are made once, with it, and never replaced
        self._tables = MemoryTables(store.lock, store.users, store.accounts, store.claims,
                                    store.sends)

    def __enter__(self) -> "MemoryUnitOfWork":
        self.s.lock.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.s.lock.release()

    def commit(self) -> None:
        return None

    def next_id(self, kind: str) -> int:
        ids = self.s.ids
        ids[kind] = found = ids[kind] + 1
        return found

    def id_taken(self, kind: str, object_id: int) -> bool:
        tables: dict[str, Mapping[int, object]] = {
            "account": self.s.accounts,
            "user": self.s.users,
            "sequence": self.s.sequences,
            "enrollment": self.s.enrollments,
            "task": self.s.tasks,
        }
        return object_id in tables[kind]

    def _seen_id(self, kind: str, object_id: int) -> None:
        """Ids chosen by the caller push the allocator past them."""
        if object_id > self.s.ids[kind]:
            self.s.ids[kind] = object_id

    # -- accounts and users --

    def get_account(self, account_id: int) -> Account | None:
        return self.s.accounts.get(account_id)

    def save_account(self, account: Account) -> None:
        self._seen_id("account", account.id)
        self.s.accounts[account.id] = account

    def get_user(self, user_id: int) -> User | None:
        return self.s.users.get(user_id)

    def get_users(self, user_ids: Seq[int]) -> list[User]:
        return [self.s.users[i] for i in dict.fromkeys(user_ids) if i in self.s.users]

    def save_user(self, user: User) -> None:
        self._seen_id("user", user.id)
        self.s.users[user.id] = user

    def list_users(self, account_id: int, page: Page) -> list[User]:
        found = sorted((u for u in self.s.users.values() if u.account_id == account_id),
                       key=attrgetter("id"))
        return found[page.offset : page.offset + page.size]

    # -- sequences --

    def get_sequence(self, account_id: int, sequence_id: int) -> Sequence | None:
        sequence = self.s.sequences.get(sequence_id)
        return sequence if sequence is not None and sequence.account_id == account_id else None

    def save_sequence(self, sequence: Sequence) -> None:
        self._seen_id("sequence", sequence.id)
        self.s.sequences[sequence.id] = sequence

    def list_sequences(
        self, account_id: int, where: SequenceFilter, page: Page
    ) -> list[Sequence]:
        found = (
            q for q in self.s.sequences.values()
            if q.account_id == account_id
            and (where.ids is None or q.id in where.ids)
            and (where.name is None or q.name == where.name)
        )
        return _sorted_page(found, where.sort, page)

    # -- enrollments --

    def get_enrollment(self, account_id: int, enrollment_id: int) -> Enrollment | None:
        found = self.s.enrollments.get(enrollment_id)
        return found if found is not None and found.account_id == account_id else None

    def save_enrollment(self, enrollment: Enrollment) -> None:
        s, enrollment_id = self.s, enrollment.id
        old = s.enrollments.get(enrollment_id)
        if old is not enrollment:  # else the live object saved again: its entries stand
            self._index_new(enrollment, old)
        due = enrollment.due_at  # on the due index (the simulator's every step: P4)
        if due is not None:
            pushed = s.due_pushed.get(enrollment_id)
            if pushed is None or pushed[0] != due:  # due_key_at, inlined
                since = due - _EPOCH
                at = (since.days * 86400 + since.seconds) * 1_000_000 + since.microseconds
                s.due_pushed[enrollment_id] = (due, at)
                ids = s.due_ids.get(at)
                if ids is None:  # the instant's first
                    s.due_ids[at] = [enrollment_id]
                    heappush(s.due_heap, at)
                else:
                    heappush(ids, enrollment_id)
        if enrollment.state is _BLOCKED:
            self.saved_blocked(enrollment)

    def saved_blocked(self, enrollment: Enrollment) -> None:
        """Told of every save of a blocked enrollment: nothing to do here. The simulator's
        store reports blocks through it (engine/runtime/simulation/observed_store.py):
        a hook rather than a wrapper of every save, which cost ~1.3% of P4's instructions."""

    def _index_new(self, enrollment: Enrollment, old: Enrollment | None) -> None:
        """Stores an enrollment that is not the stored object with its id (if any: `old`)
        and indexes it by account and resource."""
        s, enrollment_id = self.s, enrollment.id
        if not _ID_MIN <= enrollment_id < _ID_LIMIT:  # before anything changes
            raise ValueError(f"enrollment id {enrollment_id} is beyond 64 bits")
        key = (enrollment.account_id, enrollment.resource_type, enrollment.resource_id)
        s.enrollments[enrollment_id] = enrollment  # a distinct object with this id replaces it
        if old is None:
            if enrollment_id > s.ids["enrollment"]:  # _seen_id, inlined
                s.ids["enrollment"] = enrollment_id
        elif (old.account_id, old.resource_type, old.resource_id) != key:
            s.by_account[old.account_id].remove(enrollment_id)
            s.by_resource[(old.account_id, old.resource_type, old.resource_id)].remove(
                enrollment_id)
        else:
            return  # indexed under this account and resource already
        s.by_account[enrollment.account_id].append(enrollment_id)
        s.by_resource[key].append(enrollment_id)

    def list_enrollments(
        self, account_id: int, where: EnrollmentFilter, page: Page
    ) -> list[Enrollment]:
        ids = self.s.by_account.get(account_id, ())
        found: Iterable[Enrollment] = map(self.s.enrollments.__getitem__, ids)
        if _filters(where):  # else every one: a simulation's report lists them all (P4)
            found = (e for e in found if _matches(e, where))
        return _sorted_page(found, where.sort, page)

    def ongoing_enrollments(
        self,
        account_id: int,
        *,
        resource: tuple[ResourceType, int] | None = None,
        sequence_ids: Seq[int] | None = None,
        actor_id: int | None = None,
    ) -> list[Enrollment]:
        if resource is not None:  # the key built as _index_new builds it (P4)
            ids = self.s.by_resource.get((account_id, resource[0], resource[1]), ())
        else:
            ids = self.s.by_account.get(account_id, ())
        if not ids:  # a resource's first enrollment: every create asks (P4)
            return []
        return [
            e
            for e in map(self.s.enrollments.__getitem__, sorted(ids))
            if e.is_ongoing
            and (sequence_ids is None or e.sequence_id in sequence_ids)
            and (actor_id is None or e.actor_id == actor_id)
        ]

    def due_enrollments(self, now: datetime, limit: int) -> list[Enrollment]:
        found, last = list[Enrollment](), due_key_at(now)
        while len(found) < limit and (enrollment := self.take_due(last)) is not None:
            found.append(enrollment)
        for enrollment in found:  # a read, not a claim: it stays due until saved otherwise
            self.save_enrollment(enrollment)  # the stored object: back on the index only
        return found

    due_bound = staticmethod(due_key_at)  # DueIndex's: the bound take_due is given

    def take_due(self, last: int) -> Enrollment | None:
        """The in-process pass's claim (engine/app/in_process.py): the first enrollment
        due by `last` (`due_bound(now)`), as `due_enrollments` orders them, off the index
        until saved."""
        s = self.s
        heap = s.due_heap
        while heap and (at := heap[0]) <= last:
            ids = s.due_ids[at]
            enrollment_id = heappop(ids)
            if not ids:  # the instant's last
                heappop(heap)
                del s.due_ids[at]
            pushed = s.due_pushed
            due = pushed.get(enrollment_id)
            if due is None or due[1] != at:
                continue  # stale (re-planned since), or taken already at this instant
            del pushed[enrollment_id]
            enrollment = s.enrollments[enrollment_id]
            if enrollment.due_at == due[0]:
                return enrollment
        return None

    def tables(self) -> MemoryTables:
        """Its own tables, for the in-process pass's email fast path, which writes them
        in place as this unit of work's methods would."""
        return self._tables

    def fence(self, enrollment: Enrollment, worker: str, until: datetime) -> Lease:
        """A claim and its release in one: what they leave behind, the token one up."""
        _, seq, _ = self.s.claims.get(enrollment.id, (None, 0, None))
        self.s.claims[enrollment.id] = (None, seq + 1, None)
        enrollment.due_at = until
        return Lease(enrollment.id, enrollment.account_id, worker, seq + 1, until)

    def claim_due(
        self, worker: str, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Enrollment, Lease]]:
        taken = []
        for enrollment in self.due_enrollments(now, limit):
            _, seq, _ = self.s.claims.get(enrollment.id, (None, 0, None))
            self.s.claims[enrollment.id] = (worker, seq + 1, until)
            enrollment.due_at = until
            self.save_enrollment(enrollment)
            taken.append(
                (enrollment, Lease(enrollment.id, enrollment.account_id, worker, seq + 1, until))
            )
        return taken

    def _held(self, lease: Lease) -> bool:
        by, seq, _ = self.s.claims.get(lease.enrollment_id, (None, 0, None))
        return by == lease.worker and seq == lease.seq

    def renew_leases(self, leases: Seq[Lease], until: datetime) -> list[Lease]:
        held = []
        for lease in leases:
            if self._held(lease):
                self.s.claims[lease.enrollment_id] = (lease.worker, lease.seq, until)
                enrollment = self.s.enrollments[lease.enrollment_id]
                enrollment.due_at = until
                self.save_enrollment(enrollment)
                held.append(Lease(lease.enrollment_id, lease.account_id, lease.worker,
                                  lease.seq, until))
        return held

    def lease_holds(self, lease: Lease, now: datetime) -> bool:
        _, _, until = self.s.claims.get(lease.enrollment_id, (None, 0, None))
        enrollment = self.s.enrollments.get(lease.enrollment_id)
        return (
            self._held(lease)
            and until is not None
            and until > now
            and enrollment is not None
            and enrollment.is_ongoing
        )

    def release_lease(self, lease: Lease) -> bool:
        if not self._held(lease):
            return False
        self.s.claims[lease.enrollment_id] = (None, lease.seq, None)
        return True

    def end_leases(self, leases: Seq[Lease]) -> None:
        for lease in leases:
            self.release_lease(lease)

    def count_due(self, now: datetime) -> int:
        s = self.s
        return sum(1 for enrollment_id, (due, _) in s.due_pushed.items()
                   if due <= now and s.enrollments[enrollment_id].due_at == due)

    def next_due_at(self) -> datetime | None:
        enrollment = self.take_due(_NO_BOUND)
        if enrollment is None:
            return None
        self.save_enrollment(enrollment)  # the stored object: back on the index only
        return enrollment.due_at

    # -- tasks --

    def get_task(self, account_id: int, task_id: int) -> Task | None:
        task = self.s.tasks.get(task_id)
        return task if task is not None and task.account_id == account_id else None

    def save_task(self, task: Task) -> None:
        self._seen_id("task", task.id)
        self.s.tasks[task.id] = task

    def delete_task(self, task: Task) -> None:
        self.s.tasks.pop(task.id, None)

    def list_tasks(self, account_id: int, where: TaskFilter, page: Page) -> list[Task]:
        found = (
            t for t in self.s.tasks.values()
            if t.account_id == account_id and _task_matches(t, where)
        )
        return _sorted_page(found, where.sort, page)

    # -- tokens, idempotent responses --

    def get_token(self, token_hash: str) -> ApiToken | None:
        return self.s.tokens.get(token_hash)

    def save_token(self, token: ApiToken) -> None:
        self.s.tokens[token.token_hash] = token

    def get_idempotent(self, account_id: int, key: str) -> StoredResponse | None:
        return self.s.responses.get((account_id, key))

    def save_idempotent(self, account_id: int, key: str, response: StoredResponse) -> None:
        self.s.responses.setdefault((account_id, key), response)

    # -- sending limits, outbox --

    def count_sends(self, scope: str, owner_id: int, day: date) -> int:
        return self.s.sends.get((scope, owner_id, day), 0)

    def count_sends_many(self, keys: Seq[tuple[str, int, date]], *, lock: bool = True,
                         ) -> list[int]:
        return [self.count_sends(*key) for key in keys]

    def add_send(self, scope: str, owner_id: int, day: date, delta: int = 1) -> None:
        self.s.sends[(scope, owner_id, day)] += delta

    def add_sends(self, keys: Seq[tuple[str, int, date]], deltas: Seq[int]) -> list[int]:
        for key, delta in zip(keys, deltas, strict=True):
            self.add_send(*key, delta=delta)
        return self.count_sends_many(keys)

    def add_outbox_message(self, message: OutboxMessage) -> bool:
        if message.idempotency_key in self.s.outbox_keys:
            return False
        self.s.outbox_keys.add(message.idempotency_key)
        self.s.outbox.append(message)
        return True

    def put_outbox_message(self, message: OutboxMessage) -> None:
        self.add_outbox_message(message)

    def list_outbox(self, account_id: int, page: Page) -> list[OutboxMessage]:
        found = [m for m in self.s.outbox if m.account_id == account_id]
        return found[page.offset : page.offset + page.size]

    def failure_rules(self, account_id: int) -> list[FailureRule]:
        return list(self.s.rules.get(account_id, {}).values())

    def set_failure_rule(self, rule: FailureRule) -> None:
        self.s.rules[rule.account_id][(rule.resource_type, rule.resource_id)] = rule

    def clear_failure_rules(self, account_id: int) -> None:
        self.s.rules.pop(account_id, None)


def _sorted_page(found: Iterable[T], sort: Sort, page: Page) -> list[T]:
    """Sorted as SQL's `ORDER BY field, id` (both in the sort's direction), then paged.
    Names compare by code point, as SQLite's BINARY collation compares UTF-8."""
    field = sort.field
    key: Any = attrgetter("id") if field == "id" else attrgetter(field, "id")
    ordered = sorted(found, key=key, reverse=sort.descending)
    return ordered[page.offset : page.offset + page.size]


def _filters(where: EnrollmentFilter) -> bool:
    """Whether `where` leaves out any enrollment (its sort aside)."""
    return not (
        where.ids is None
        and where.resource_ids is None
        and where.resource_type is None
        and where.sequence_id is None
        and where.state is None
    )


def _matches(e: Enrollment, where: EnrollmentFilter) -> bool:
    return (
        (where.ids is None or e.id in where.ids)
        and (where.resource_ids is None or e.resource_id in where.resource_ids)
        and (where.resource_type is None or e.resource_type is where.resource_type)
        and (where.sequence_id is None or e.sequence_id == where.sequence_id)
        and (where.state is None or e.state is where.state)
    )


def _task_matches(t: Task, where: TaskFilter) -> bool:
    return (
        (where.ids is None or t.id in where.ids)
        and (where.resource_type is None or t.resource_type is where.resource_type)
        and (where.resource_id is None or t.resource_id == where.resource_id)
        and (where.completed is None or t.completed == where.completed)
    )
