"""Sample objects with every field set (non-default values, enums, None where
allowed, microseconds, non-UTC zones) and small helpers to write and read them."""

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg

from engine.app.ports import FailureRule, OutboxMessage, Store, UnitOfWork
from engine.domain.account import Account, ApiToken, User
from engine.domain.enrollment import Enrollment, StepAction
from engine.domain.enums import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.sequence import Sequence, Step, UnsubscribeSettings
from engine.domain.task import Task

A = ActionStatus
Opener = Callable[[], Store]  # opens another store on one shared database
T0 = datetime(2020, 12, 15, 19, 58, 53, 526_123, tzinfo=UTC)
WARSAW = ZoneInfo("Europe/Warsaw")
KOLKATA = timezone(timedelta(hours=5, minutes=30))
LEAD, CONTACT = ResourceType.LEAD, ResourceType.CONTACT

STEPS = (
    Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 501, False),
    Step(1, 3, DelayUnit.HOURS, ActionType.TASK, task_content="call them"),
    Step(2, 2, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, None, True),
)


def account(account_id: int = 1, name: str = "acme") -> Account:
    return Account(account_id, name, reach_enabled=False, daily_email_quota=1234)


def user(user_id: int = 10, account_id: int = 1) -> User:
    return User(user_id, account_id, "Ann", "Europe/Warsaw", "PL", "1111110", "09:00-17:00", 42)


def sequence(sequence_id: int = 20, account_id: int = 1, steps: tuple[Step, ...] = STEPS,
             ) -> Sequence:
    return Sequence(sequence_id, account_id, "Onboarding", 10, T0, T0 + timedelta(days=1),
                    steps, UnsubscribeSettings(False, "pl-PL"))


def enrollment(
    enrollment_id: int = 30,
    account_id: int = 1,
    *,
    resource: tuple[ResourceType, int] = (LEAD, 7),
    sequence_id: int = 20,
    actor_id: int = 10,
    state: EnrollmentState = EnrollmentState.ACTIVE,
    due_at: datetime | None = None,
) -> Enrollment:
    """An active enrollment on step 1 (step 0 sent), due when `due_at` says."""
    actions = [
        StepAction(A.COMPLETED, None, T0 + timedelta(seconds=1)),
        StepAction(A.SCHEDULED, due_at or T0 + timedelta(hours=3)),
        StepAction(A.SCHEDULED, T0 + timedelta(days=2)),
    ]
    return Enrollment(
        id=enrollment_id, account_id=account_id, actor_id=actor_id, sequence_id=sequence_id,
        resource_type=resource[0], resource_id=resource[1],
        created_at=T0.replace(microsecond=0), updated_at=T0 + timedelta(seconds=1),
        started_at=T0.replace(microsecond=526_000), steps=STEPS, actions=actions,
        state=state, current_step_position=1, due_at=due_at,
        finished_at=T0 + timedelta(days=3) if state is EnrollmentState.FINISHED else None,
        finished_reason=FinishedReason.MANUAL if state is EnrollmentState.FINISHED else None,
    )


def busy_enrollment(enrollment_id: int = 31) -> Enrollment:
    """Every StepAction field set, every action status and failure reason, zones mixed."""
    steps = tuple(
        Step(i, i, DelayUnit.HOURS if i % 2 else DelayUnit.WEEKDAYS,
             ActionType.TASK if i % 3 == 2 else ActionType.AUTOMATED_EMAIL,
             None if i % 3 == 2 else 900 + i, i % 2 == 1,
             f"task {i}" if i % 3 == 2 else None)
        for i in range(len(FailureReason))
    )
    statuses = list(ActionStatus)
    actions = [
        StepAction(
            statuses[i % len(statuses)],
            (T0 + timedelta(hours=i, microseconds=i)).astimezone(WARSAW),
            (T0 + timedelta(minutes=i)).astimezone(KOLKATA) if i % 2 else None,
            reason,
            1000 + i if i % 3 == 2 else None,
            i,
            2 * i,
            T0 - timedelta(days=i) if i % 2 == 0 else None,
        )
        for i, reason in enumerate(FailureReason)
    ]
    return Enrollment(
        id=enrollment_id, account_id=1, actor_id=10, sequence_id=21,
        resource_type=CONTACT, resource_id=2**40, created_at=T0.astimezone(KOLKATA),
        updated_at=T0, started_at=T0, steps=steps, actions=actions,
        state=EnrollmentState.BLOCKED, current_step_position=3,
        finished_at=T0.astimezone(WARSAW), finished_reason=FinishedReason.TASK_DELETED,
        finished_actor_id=11, due_at=T0 + timedelta(microseconds=1),
    )


def task(task_id: int = 40, account_id: int = 1, *, resource: tuple[ResourceType, int] = (LEAD, 7),
         completed: bool = False) -> Task:
    return Task(
        id=task_id, account_id=account_id, creator_id=10, owner_id=11,
        resource_type=resource[0], resource_id=resource[1], content="call them",
        due_date=T0.astimezone(WARSAW), created_at=T0, updated_at=T0 + timedelta(seconds=5),
        enrollment_id=30, position=1, completed=completed,
        completed_at=T0 + timedelta(hours=1) if completed else None,
        remind_at=T0 - timedelta(minutes=15),
    )


def bare_task(task_id: int, account_id: int = 1) -> Task:
    """A task with every optional field None."""
    return Task(task_id, account_id, 10, 10, CONTACT, 8, "", T0, T0, T0)


def token(token_hash: str = "ab" * 32, *, revoked: bool = False) -> ApiToken:
    return ApiToken(token_hash, 10, 1, frozenset({"read"}), revoked)


def message(key: str, account_id: int = 1, position: int = 0) -> OutboxMessage:
    return OutboxMessage(key, account_id, 30, position, 501 if position == 0 else None,
                         position == 1, 10, CONTACT, 7, T0.replace(microsecond=0))


def rule(resource_id: int, reason: FailureReason = FailureReason.AUTH,
         account_id: int = 1) -> FailureRule:
    return FailureRule(account_id, LEAD, resource_id, reason)


def save(uow: UnitOfWork, *objects: object) -> None:
    for obj in objects:
        match obj:
            case Account():
                uow.save_account(obj)
            case User():
                uow.save_user(obj)
            case Sequence():
                uow.save_sequence(obj)
            case Enrollment():
                uow.save_enrollment(obj)
            case Task():
                uow.save_task(obj)
            case ApiToken():
                uow.save_token(obj)
            case FailureRule():
                uow.set_failure_rule(obj)
            case _:
                raise TypeError(f"cannot save {obj!r}")


def write(store: Store, *objects: object) -> None:
    """Save `objects` in one committed unit of work."""
    with store.unit_of_work() as uow:
        save(uow, *objects)
        uow.commit()


@contextmanager
def reading(store: Store) -> Iterator[UnitOfWork]:
    with store.unit_of_work() as uow:
        yield uow


def ids(objects: list[Enrollment] | list[Task] | list[Sequence]) -> list[int]:
    return [o.id for o in objects]


def by_hand(address: str, statements: list[str]) -> None:
    """Run `statements` as a host's own SQL would, outside any store, each committed
    on its own; `{s}` in them stands for the schema prefix (`seqengine.` on PostgreSQL)."""
    if address.startswith("postgresql"):
        with psycopg.connect(address, autocommit=True) as conn:
            for text in statements:
                conn.execute(text.format(s="seqengine."))  # type: ignore[arg-type]
    else:
        plain = sqlite3.connect(address, isolation_level=None)
        try:
            for text in statements:
                plain.execute(text.format(s=""))
        finally:
            plain.close()


def wait_until(check: Callable[[], bool], what: str) -> None:
    """Wait for another thread or process to get somewhere (never for time to pass)."""
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)
