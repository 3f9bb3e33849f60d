"""Contract: every entity round-trips with every field, and reads are account-scoped."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from contract_samples import (
    KOLKATA,
    STEPS,
    T0,
    WARSAW,
    account,
    bare_task,
    busy_enrollment,
    enrollment,
    reading,
    sequence,
    task,
    token,
    user,
    write,
)

from engine.app.ports import EnrollmentFilter, Page, SequenceFilter, Store, TaskFilter
from engine.domain.account import Account, User
from engine.domain.enums import ActionStatus, EnrollmentState, FinishedReason, ResourceType
from engine.domain.sequence import Sequence, UnsubscribeSettings


def assert_aware(*instants: datetime | None) -> None:
    for instant in instants:
        assert instant is None or instant.utcoffset() is not None


def test_account_and_user_round_trip(store: Store) -> None:
    write(store, account(), user(), Account(2, "plain"), User(12, 2))
    with reading(store) as uow:
        assert uow.get_account(1) == account()
        assert uow.get_account(2) == Account(2, "plain")
        assert uow.get_user(10) == user()
        assert uow.get_user(12) == User(12, 2)
        assert uow.get_account(3) is None
        assert uow.get_user(13) is None


def test_users_are_read_many_at_once(store: Store) -> None:
    write(store, account(), user(), Account(2, "plain"), User(12, 2))
    for read_only in (True, False):  # a write unit locks them too
        with store.unit_of_work(read_only=read_only) as uow:
            found = uow.get_users([12, 13, 10, 12])
            assert sorted(found, key=lambda u: u.id) == [user(), User(12, 2)]
            assert uow.get_users([]) == [] and uow.get_users([13]) == []


def test_saving_again_replaces(store: Store) -> None:
    write(store, account(), user(), sequence(), enrollment(), task())
    renamed = Account(1, "renamed", reach_enabled=True, daily_email_quota=5)
    moved = User(10, 1, "Bob", "UTC", None, "1111100", None, 300)
    edited = replace(sequence(), name="v2", steps=STEPS[:1],
                     unsubscribe_settings=UnsubscribeSettings())
    finished = enrollment(state=EnrollmentState.FINISHED)
    done = task(completed=True)
    write(store, renamed, moved, edited, finished, done)
    with reading(store) as uow:
        assert uow.get_account(1) == renamed
        assert uow.get_user(10) == moved
        assert uow.get_sequence(1, 20) == edited
        assert uow.get_enrollment(1, 30) == finished
        assert uow.get_task(1, 40) == done


def test_sequence_round_trip(store: Store) -> None:
    empty = Sequence(22, 1, "empty", 10, T0, T0)
    write(store, sequence(), empty)
    with reading(store) as uow:
        got = uow.get_sequence(1, 20)
        assert got == sequence()
        assert got is not None and got.steps == STEPS and got.steps_total == 3
        assert uow.get_sequence(1, 22) == empty


def test_enrollment_round_trip_with_every_field(store: Store) -> None:
    write(store, enrollment(due_at=T0), busy_enrollment())
    with reading(store) as uow:
        assert uow.get_enrollment(1, 30) == enrollment(due_at=T0)
        got = uow.get_enrollment(1, 31)
    want = busy_enrollment()
    assert got == want
    assert got is not None
    assert [a.status for a in got.actions] == [a.status for a in want.actions]
    assert {a.status for a in got.actions} == set(ActionStatus)
    assert got.due_at == T0 + timedelta(microseconds=1)  # microseconds kept exactly
    assert_aware(got.created_at, got.finished_at, got.due_at,
                 *(a.estimated_execute_at for a in got.actions),
                 *(a.executed_at for a in got.actions),
                 *(a.resumed_at for a in got.actions))


def test_every_finished_reason_and_state(store: Store) -> None:
    for i, reason in enumerate(FinishedReason):
        e = enrollment(100 + i, state=EnrollmentState.FINISHED)
        e.finished_reason = reason
        write(store, e)
    write(store, enrollment(200, state=EnrollmentState.BLOCKED))
    with reading(store) as uow:
        for i, reason in enumerate(FinishedReason):
            got = uow.get_enrollment(1, 100 + i)
            assert got is not None and got.finished_reason is reason
        blocked = uow.get_enrollment(1, 200)
        assert blocked is not None and blocked.state is EnrollmentState.BLOCKED


def test_instants_keep_their_moment_in_any_zone(store: Store) -> None:
    local = datetime(2021, 3, 28, 3, 30, 0, 999_999, tzinfo=WARSAW)  # just after a DST gap
    t = replace(task(), due_date=local, created_at=local.astimezone(KOLKATA),
                remind_at=datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC))
    write(store, t)
    with reading(store) as uow:
        got = uow.get_task(1, 40)
    assert got == t
    assert got is not None
    assert got.due_date == local and got.due_date.utcoffset() is not None
    assert got.remind_at == datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC)


def test_task_round_trip_and_delete(store: Store) -> None:
    write(store, task(), task(41, completed=True), bare_task(42))
    with reading(store) as uow:
        assert uow.get_task(1, 40) == task()
        assert uow.get_task(1, 41) == task(41, completed=True)
        assert uow.get_task(1, 42) == bare_task(42)
    with store.unit_of_work() as uow:
        doomed = uow.get_task(1, 41)
        assert doomed is not None
        uow.delete_task(doomed)
        uow.commit()
    with reading(store) as uow:
        assert uow.get_task(1, 41) is None
        assert uow.get_task(1, 40) is not None


def test_token_round_trip_by_hash(store: Store) -> None:
    with reading(store) as uow:
        assert uow.get_token("cd" * 32) is None
    write(store, token(), token("ef" * 32))
    write(store, token(revoked=True))
    with reading(store) as uow:
        assert uow.get_token("ab" * 32) == token(revoked=True)
        got = uow.get_token("ef" * 32)
        assert got == token("ef" * 32)
        assert got is not None and got.scopes == frozenset({"read"})


def test_another_accounts_objects_do_not_exist(store: Store) -> None:
    write(store, account(1), account(2, "other"), sequence(20, 1), enrollment(30, 1), task(40, 1))
    with reading(store) as uow:
        assert uow.get_sequence(2, 20) is None
        assert uow.get_enrollment(2, 30) is None
        assert uow.get_task(2, 40) is None
        assert uow.list_sequences(2, SequenceFilter(), Page()) == []
        assert uow.list_users(2, Page()) == []
        assert uow.list_tasks(2, TaskFilter(), Page()) == []
        assert uow.list_enrollments(2, EnrollmentFilter(), Page()) == []
        assert uow.ongoing_enrollments(2) == []
        assert uow.ongoing_enrollments(2, resource=(ResourceType.LEAD, 7)) == []


def test_save_enrollment_replaces_a_distinct_object_with_the_same_id(store: Store) -> None:
    """A copy (as a request or another process would build) replaces what is stored."""
    write(store, enrollment(30, resource=(ResourceType.LEAD, 7)))
    moved = enrollment(30, 2, resource=(ResourceType.CONTACT, 8), sequence_id=21,
                       state=EnrollmentState.BLOCKED, due_at=T0)
    write(store, moved)
    with reading(store) as uow:
        assert uow.get_enrollment(2, 30) == moved
        assert uow.get_enrollment(1, 30) is None
        assert uow.ongoing_enrollments(1) == []
        assert uow.list_enrollments(1, EnrollmentFilter(), Page()) == []
        assert uow.ongoing_enrollments(2, resource=(ResourceType.CONTACT, 8)) == [moved]
        assert uow.ongoing_enrollments(2, resource=(ResourceType.LEAD, 7)) == []
        assert uow.due_enrollments(T0, 10) == [moved]

