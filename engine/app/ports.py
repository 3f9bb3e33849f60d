"""The ports the use cases need: a clock, a transactional store, an email delivery and,
for a host that keeps its own tasks, a task delivery.

Adapters implement these; the use cases never know which backend they talk to.
Every read that a caller can reach is scoped by `account_id`: another account's
objects simply do not exist for it.
"""

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, runtime_checkable

from engine.domain.account import Account, ApiToken, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import EnrollmentState, FailureReason, ResourceType, coerce
from engine.domain.sequence import Sequence
from engine.domain.task import Task


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""


@runtime_checkable
class SettableClock(Clock, Protocol):
    """A simulated clock: time moves only when told to, and never backwards."""

    def set(self, instant: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class Page:
    number: int = 1
    size: int = 25
    start: int | None = None  # rows skipped, when not the number's (see with_next)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size if self.start is None else self.start

    def with_next(self) -> "Page":
        """This page's rows and the first row of the next one: a full page read this
        way tells in the same read whether another page follows."""
        return Page(self.number, self.size + 1, self.offset)


# What lists sort on (Sell's `sort_by`). Every backend must know these and no other:
# they are its whitelist of sort columns, and ties are broken by id in the same direction.
SORT_FIELDS = frozenset({"id", "created_at", "updated_at"})
SEQUENCE_SORT_FIELDS = SORT_FIELDS | {"name"}


@dataclass(frozen=True, slots=True)
class Sort:
    """`field` ascending, or descending; the default is Sell's `id:asc`."""

    field: str = "id"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.field not in SEQUENCE_SORT_FIELDS:
            raise ValueError(f"cannot sort on {self.field!r}")


def _sortable(sort: Sort, fields: frozenset[str]) -> None:
    if sort.field not in fields:
        raise ValueError(f"cannot sort this list on {sort.field!r}")


@dataclass(frozen=True, slots=True)
class EnrollmentFilter:
    ids: tuple[int, ...] | None = None
    resource_ids: tuple[int, ...] | None = None
    resource_type: ResourceType | None = None
    sequence_id: int | None = None
    state: EnrollmentState | None = None
    sort: Sort = Sort()

    def __post_init__(self) -> None:
        _sortable(self.sort, SORT_FIELDS)


@dataclass(frozen=True, slots=True)
class SequenceFilter:
    ids: tuple[int, ...] | None = None
    name: str | None = None  # exact match
    sort: Sort = Sort()


@dataclass(frozen=True, slots=True)
class TaskFilter:
    ids: tuple[int, ...] | None = None
    resource_type: ResourceType | None = None
    resource_id: int | None = None
    completed: bool | None = None
    sort: Sort = Sort()

    def __post_init__(self) -> None:
        _sortable(self.sort, SORT_FIELDS)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One email the built-in outbox delivery has sent."""

    idempotency_key: str
    account_id: int
    enrollment_id: int
    position: int
    email_template_id: int | None
    is_reply: bool
    actor_id: int
    resource_type: ResourceType
    resource_id: int
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class FailureRule:
    """Makes the outbox fail every send to one resource with one reason."""

    account_id: int
    resource_type: ResourceType
    resource_id: int
    failure_reason: FailureReason

    def __post_init__(self) -> None:  # plain strings from library callers, on every store
        object.__setattr__(self, "resource_type",
                           coerce(ResourceType, self.resource_type, "resource_type"))
        object.__setattr__(self, "failure_reason",
                           coerce(FailureReason, self.failure_reason, "failure_reason"))


@dataclass(frozen=True, slots=True)
class Lease:
    """A worker's claim on one enrollment's due work (engine/app/execution.py has the
    protocol)."""

    enrollment_id: int
    account_id: int
    worker: str
    seq: int  # fencing token: goes up by one on every claim of this enrollment
    until: datetime  # when the lease runs out


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes


class UnitOfWork(Protocol):
    """One transaction. Leaving the `with` block without commit() rolls back."""

    def __enter__(self) -> "UnitOfWork": ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...

    def next_id(self, kind: str) -> int: ...
    def id_taken(self, kind: str, object_id: int) -> bool:
        """Whether any account has an object of this kind with this id."""

    def get_account(self, account_id: int) -> Account | None: ...
    def save_account(self, account: Account) -> None: ...
    def get_user(self, user_id: int) -> User | None: ...
    def get_users(self, user_ids: Seq[int]) -> list[User]:
        """The users with these ids (of any account; missing ones left out), in no
        particular order; a write unit reads them as get_user does."""
    def save_user(self, user: User) -> None: ...
    def list_users(self, account_id: int, page: Page) -> list[User]:
        """The account's users, by id."""

    def get_sequence(self, account_id: int, sequence_id: int) -> Sequence | None: ...
    def save_sequence(self, sequence: Sequence) -> None: ...
    def list_sequences(
        self, account_id: int, where: SequenceFilter, page: Page
    ) -> list[Sequence]: ...

    def get_enrollment(self, account_id: int, enrollment_id: int) -> Enrollment | None: ...
    def save_enrollment(self, enrollment: Enrollment) -> None: ...
    def list_enrollments(
        self, account_id: int, where: EnrollmentFilter, page: Page
    ) -> list[Enrollment]: ...
    def ongoing_enrollments(
        self,
        account_id: int,
        *,
        resource: tuple[ResourceType, int] | None = None,
        sequence_ids: Seq[int] | None = None,
        actor_id: int | None = None,
    ) -> list[Enrollment]:
        """Active or blocked enrollments, oldest first, optionally narrowed."""

    def due_enrollments(self, now: datetime, limit: int) -> list[Enrollment]:
        """Enrollments of every account whose due_at <= now, earliest first (a read:
        claim_due is how work is taken)."""

    def next_due_at(self) -> datetime | None: ...

    def count_due(self, now: datetime) -> int:
        """How many enrollments of every account have due_at <= now (the backlog the
        metrics show; a leased one is not due until its lease runs out)."""

    # -- claims: the scheduler's leases (execution.py states the protocol) --

    def claim_due(
        self, worker: str, now: datetime, until: datetime, limit: int
    ) -> list[tuple[Enrollment, Lease]]:
        """Lease up to `limit` enrollments of any account whose due_at <= now, earliest
        due first (ties by id), skipping rows another transaction has locked. Each one's
        claim_seq goes up by one, claimed_by = worker, claim_until = until and due_at =
        until (an abandoned claim comes due again when its lease runs out); the returned
        enrollments carry due_at = until. The caller dispatches and saves them in the
        same transaction."""

    def renew_leases(self, leases: Seq[Lease], until: datetime) -> list[Lease]:
        """Extend to `until` (claim_until and due_at) the leases still held (same
        enrollment, claim_seq and claimed_by); returns those, with the new expiry."""

    def lease_holds(self, lease: Lease, now: datetime) -> bool:
        """The lease is still the enrollment's current claim (same claim_seq and
        claimed_by, claim_until > now) and the enrollment is not finished."""

    def release_lease(self, lease: Lease) -> bool:
        """If the lease is still held (same claim_seq and claimed_by), end it (the row
        keeps claim_seq) and return True; else change nothing and return False. Runs
        first in the transaction that records an outcome, so the outcome applies only
        under the claim (and, on PostgreSQL, with the row locked)."""

    def end_leases(self, leases: Seq[Lease]) -> None:
        """release_lease of leases this same transaction took (claim_due), so still
        holds, their rows locked: there is nothing to check, and a server database
        sends them as one statement, with its next one."""

    def get_task(self, account_id: int, task_id: int) -> Task | None: ...
    def save_task(self, task: Task) -> None: ...
    def delete_task(self, task: Task) -> None: ...
    def list_tasks(self, account_id: int, where: TaskFilter, page: Page) -> list[Task]: ...

    def count_sends(self, scope: str, owner_id: int, day: date) -> int: ...
    def count_sends_many(self, keys: Seq[tuple[str, int, date]], *, lock: bool = True,
                         ) -> list[int]:
        """count_sends of each (scope, owner_id, day), in the order given; in a write
        unit, on a server database, every counter is locked, in key order (so two
        units asking for overlapping counters never wait on each other in a cycle),
        unless `lock=False`."""
    def add_send(self, scope: str, owner_id: int, day: date, delta: int = 1) -> None:
        """Count a send on that day (a negative delta gives counts back)."""
    def add_sends(self, keys: Seq[tuple[str, int, date]], deltas: Seq[int]) -> list[int]:
        """add_send of each delta to its counter (keys distinct, in key order, locked in
        that order on a server database); returns the new totals, as this
        transaction sees them, in the order given."""

    def get_token(self, token_hash: str) -> ApiToken | None: ...
    def save_token(self, token: ApiToken) -> None: ...

    def get_idempotent(self, account_id: int, key: str) -> StoredResponse | None:
        """The response first given to a request with this Idempotency-Key, if any."""

    def save_idempotent(self, account_id: int, key: str, response: StoredResponse) -> None: ...

    def add_outbox_message(self, message: OutboxMessage) -> bool:
        """Record a send; False (and nothing written) if its key was recorded before."""

    def put_outbox_message(self, message: OutboxMessage) -> None:
        """add_outbox_message when nobody reads whether the key was new: a server
        database sends it with its next statement."""

    def list_outbox(self, account_id: int, page: Page) -> list[OutboxMessage]: ...
    def failure_rules(self, account_id: int) -> list[FailureRule]: ...
    def set_failure_rule(self, rule: FailureRule) -> None: ...
    def clear_failure_rules(self, account_id: int) -> None: ...


class Store(Protocol):
    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A transaction; a read-only one may read beside a writer and must not write."""

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""


@dataclass(frozen=True, slots=True)
class SendRequest:
    idempotency_key: str
    account_id: int
    enrollment_id: int
    position: int
    actor_id: int
    resource_type: ResourceType
    resource_id: int
    email_template_id: int | None
    is_reply: bool
    lease_expires_at: datetime  # a receiver may refuse the send after this instant


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one send: sent, or failed for a reason (transient errors raise)."""

    sent: bool
    failure_reason: FailureReason | None = None


SENT = SendResult(True)


class EmailDelivery(Protocol):
    def send(self, request: SendRequest, now: datetime) -> SendResult:
        """Deliver one email, outside any transaction of the caller's.

        Raise engine.errors.DeliveryError for a transient failure. A repeated
        idempotency key must be treated as the same send (delivery is at least once),
        and a send that arrives after `request.lease_expires_at` may be refused: its
        worker no longer held it."""


@runtime_checkable
class InStoreDelivery(Protocol):
    """An email delivery that is itself a write to the engine's store (the built-in
    outbox). The scheduler makes it inside the transaction that records its outcome,
    right after that transaction has released the lease with the row locked: the
    lease check and the send commit together (a transactional outbox)."""

    def send(self, request: SendRequest, now: datetime) -> SendResult: ...

    def send_within(self, uow: UnitOfWork, request: SendRequest, now: datetime,
                    ) -> SendResult:
        """`send`, as a write of the caller's transaction (the caller commits)."""


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """A task step asks the host to create its task (sent like an email, under a lease)."""

    idempotency_key: str
    account_id: int
    enrollment_id: int
    position: int
    actor_id: int  # the task's owner
    resource_type: ResourceType
    resource_id: int
    content: str
    due_date: datetime  # the step's planned instant
    lease_expires_at: datetime  # a receiver may refuse the creation after this instant


@dataclass(frozen=True, slots=True)
class TaskCreated:
    """The host created the task (or had created it for this key): its id there."""

    task_id: int


class TaskDelivery(Protocol):
    """Task creation in a host that keeps its own tasks. Without one, the engine keeps
    tasks itself (`/v2/tasks`), created in the claim's own transaction.

    The host reports back with the events TaskCompleted and TaskDeleted, naming the
    step by `enrollment_id` and `position`."""

    def create(self, request: TaskRequest, now: datetime) -> TaskCreated:
        """Create one task, outside any transaction of the caller's.

        Raise engine.errors.DeliveryError for a transient failure (retried with
        backoff, without end: a task step has no failed state). A repeated
        idempotency key must return the task created for it the first time, and a
        creation that arrives after `request.lease_expires_at` may be refused."""
