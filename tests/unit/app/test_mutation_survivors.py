"""Survivors of the 2026-12-06 mutation run over engine/app (issue 12): each test
names the mutant it kills (docs/testing.md, "Mutation testing")."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_execution_reports import Recorder
from test_host_tasks import Host
from world import World, email, task

from engine import (
    ActionStatus,
    EnrollmentState,
    ExecutionPolicy,
    FailureReason,
    FailureRule,
    LimitPolicy,
    ResourceType,
    SequenceEngine,
    SimulatedClock,
    build,
)
from engine.adapters.storage.memory import MemoryStore
from engine.app.batch import Batch
from engine.app.execution import IN_RECORD, Executor
from engine.app.ports import SENT, Page
from engine.domain.sequence import MAX_SEQUENCE_ID, STEP_ID_BASE
from engine.errors import ErrorDetail, ValidationFailed
from engine.runtime.bootstrap import in_memory

TUESDAY_10_UTC = datetime(2020, 12, 15, 10, 0, tzinfo=UTC)  # 19:00 in Tokyo


def _one_email_sequence(
    account_fields: dict[str, Any], **calendar: Any
) -> tuple[SequenceEngine, int, int, int]:
    """An engine at TUESDAY_10_UTC: (engine, account, actor, a one-email sequence)."""
    engine = in_memory(start=TUESDAY_10_UTC)
    account = engine.create_account("small", **account_fields).id
    actor = engine.create_user(account, **calendar).id
    sequence_id = engine.create_sequence(
        account, name="s", steps=[email(0, 0)], creator_id=actor
    ).id
    return engine, account, actor, sequence_id


def _run_or_advance(w: World, run: str, due: int) -> None:
    """Run what is due a second on, by `run_due` or by `advance`."""
    if run == "run_due":
        w.engine.clock.set(w.engine.clock.now() + timedelta(seconds=1))
        assert w.engine.run_due() == due
    else:
        w.engine.advance(seconds=1)


def test_a_deferred_send_over_the_account_quota_waits_for_the_next_utc_days_window() -> None:
    """The account's quota resets at UTC midnight, the actor's limit at local midnight:
    a send deferred for the quota waits for whichever comes later, rolled into the
    actor's window. Kills limits.limit_reached's mutants of the quota branch (the
    `is` test, the next UTC day and its roll_forward)."""
    engine, account, actor, sequence_id = _one_email_sequence(
        {"daily_email_quota": 1}, time_zone="Asia/Tokyo", send_window="08:00-08:30")
    engine.policy = ExecutionPolicy(limit_policy=LimitPolicy.DEFER)
    first, second = (
        engine.enroll(account, sequence_id=sequence_id, resource_type="lead", resource_id=r,
                      actor_id=actor).enrollment.id
        for r in (1, 2)
    )
    # both due Wednesday 08:00 in Tokyo (Tuesday 23:00 UTC); the worker runs late, at
    # Wednesday 10:00 in Tokyo, already Wednesday in UTC
    engine.clock.set(datetime(2020, 12, 16, 1, 0, tzinfo=UTC))
    assert engine.run_due() == 2
    assert engine.get_enrollment(account, first).enrollment.state is EnrollmentState.FINISHED
    deferred = engine.get_enrollment(account, second).enrollment
    assert deferred.current_action.status is ActionStatus.SCHEDULED
    # the actor's next day opens Thursday 08:00 Tokyo (Wednesday 23:00 UTC), but the
    # account's next UTC day starts Thursday 09:00 Tokyo, after Thursday's window:
    # Friday 08:00 Tokyo
    assert deferred.due_at == datetime(2020, 12, 17, 23, 0, tzinfo=UTC)


def test_run_due_on_the_in_process_pass_returns_how_many_enrollments_it_took() -> None:
    """Kills in_process.run_due returning `_drain(...)[1]` (whether it got there)."""
    engine, account, actor, sequence_id = _one_email_sequence({})
    assert engine.run_due() == 0
    for resource_id in (1, 2, 3):
        engine.enroll(account, sequence_id=sequence_id, resource_type="lead",
                      resource_id=resource_id, actor_id=actor)
    engine.clock.set(TUESDAY_10_UTC + timedelta(seconds=1))
    assert engine.run_due() == 3
    assert len(engine.outbox(account)) == 3


def test_backoff_reaches_the_cap_without_overflowing_for_any_attempt_count() -> None:
    """The exponent is bounded at 40: 60 s * 2**41 is past timedelta's range. Kills
    ExecutionPolicy.backoff's `min(attempts - 1, 41)`."""
    policy = ExecutionPolicy(retry_base=timedelta(seconds=60), retry_cap=timedelta(days=1))
    assert policy.backoff(1) == timedelta(seconds=60)
    assert policy.backoff(10**6) == timedelta(days=1)


@pytest.mark.parametrize("lease", [timedelta(0), timedelta(seconds=-1)])
def test_a_lease_of_no_length_is_refused(lease: timedelta) -> None:
    """It would run out as it is taken, and run_due would re-run the step forever."""
    with pytest.raises(ValueError, match="the lease must be positive"):
        ExecutionPolicy(lease=lease)


class _Reads:
    """The memory store's unit of work, recording the batch reads of users and send
    counters (the real store answers them)."""

    def __init__(self, uow: Any, calls: list[tuple[str, object]]) -> None:
        self._uow, self._calls = uow, calls

    def __enter__(self) -> "_Reads":
        self._uow.__enter__()
        return self

    def __exit__(self, *exc: object) -> Any:
        return self._uow.__exit__(*exc)

    def count_sends_many(self, keys: list[Any], *, lock: bool = True) -> list[int]:
        self._calls.append(("count_sends_many" if lock else "count_sends_unlocked",
                            list(keys)))
        return list(self._uow.count_sends_many(keys, lock=lock))

    def get_users(self, user_ids: list[int]) -> Any:
        self._calls.append(("get_users", list(user_ids)))
        return self._uow.get_users(user_ids)

    def get_user(self, user_id: int) -> Any:
        self._calls.append(("get_user", user_id))
        return self._uow.get_user(user_id)

    def get_account(self, account_id: int) -> Any:
        self._calls.append(("get_account", account_id))
        return self._uow.get_account(account_id)

    def take_due(self, last: int) -> Any:
        self._calls.append(("take_due", last))
        return self._uow.take_due(last)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)


class _ReadsStore:
    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: list[tuple[str, object]] = []

    def unit_of_work(self, *, read_only: bool = False) -> _Reads:
        return _Reads(self._store.unit_of_work(read_only=read_only), self.calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_batch_reads_an_actor_it_was_not_given_once() -> None:
    """An actor that `read_actors` did not read (the in-process pass reads none up
    front) is read at the first step that needs it, and kept for the next. Kills
    Batch.actor's `self._users[enrollment.actor_id] = None`."""
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    store = _ReadsStore(w.engine.store)
    with store.unit_of_work() as uow:
        batch = Batch(uow)  # type: ignore[arg-type]
        enrollment = uow.get_enrollment(w.account, enrollment_id)
        assert batch.actor(enrollment).id == batch.actor(enrollment).id == enrollment.actor_id
    assert store.calls == [("get_user", enrollment.actor_id)]


def test_a_page_of_enrollments_reads_each_actor_once() -> None:
    """A page of three enrollments of one actor reads that actor once, to judge all
    three on its calendar (SequenceEngine._views). Kills _views's `calendar = None`
    and `calendars.get(None)` (the actor read again for every enrollment)."""
    w = World()
    emails = w.sequence(email(0, 0))
    for resource_id in (1, 2, 3):
        w.enroll(emails, resource_id=resource_id)
    store = _ReadsStore(w.engine.store)
    w.engine.store = store  # type: ignore[assignment]
    assert len(w.engine.list_enrollments(w.account)) == 3
    assert [call for call in store.calls if call[0] == "get_user"] == [("get_user", w.actor)]


def test_a_claim_reads_its_actors_and_the_counters_of_its_emails_up_front() -> None:
    """One claim reads its actors in one statement, each account once, and, in key order and before
    counting any, the send counters of the scheduled emails only; far from its limits it reads
    them unlocked and adds its sends last (engine/app/limits.py). Kills batch.Batch.read_actors's
    `wanted = None`, batch.counts_now's `or` for `and` and `is not SCHEDULED`, and the mutants of
    Batch.actor and Batch.account that drop what they read."""
    w = World()
    other = w.engine.create_user(w.account).id
    emails = w.sequence(email(0, 0))
    w.enroll(emails, resource_id=1)
    w.enroll(emails, resource_id=3)
    w.engine.enroll(w.account, sequence_id=w.sequence(task(0, 0), name="t"),
                    resource_type="lead", resource_id=2, actor_id=other)
    store = _ReadsStore(w.engine.store)
    executor = Executor(store, w.engine.delivery, w.engine.policy,  # type: ignore[arg-type]
                        w.engine.clock, "w1")
    claims, taken = executor.claim(10)
    assert (len(claims), taken) == (2, 3)
    day = w.engine.clock.now().date()
    assert store.calls == [
        ("get_users", [w.actor, other]),
        ("get_account", w.account),
        ("count_sends_unlocked", [("account", w.account, day), ("actor", w.actor, day)]),
    ]


def test_the_in_process_pass_reads_each_enrollments_actor_and_account_once() -> None:
    """On the memory store's email fast path the actor and account come from the store's own tables;
    only the refused send's record reads its actor, once. Kills Batch.actor's and Batch.account's
    `self._users[...] = None` (each re-read on the next lookup)."""
    w = World()
    emails = w.sequence(email(0, 0))
    w.enroll(emails, resource_id=1)
    w.enroll(emails, resource_id=2)
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 2, FailureReason.RECIPIENT_INVALID))
    store = _ReadsStore(w.engine.store)
    w.engine.store = store  # type: ignore[assignment]
    w.engine.clock.set(w.engine.clock.now() + timedelta(seconds=1))
    assert w.engine.run_due() == 2
    assert [call for call in store.calls if call[0] != "take_due"] == [
        ("get_user", w.actor)]


def test_the_in_process_pass_reports_each_delivery() -> None:
    """Kills in_process._claim_deliver_record's `delivered(None, ...)` and
    `delivered(*_label(outcome))`."""
    w = World()
    w.engine.observer = seen = Recorder()
    w.enroll(w.sequence(email(0, 0)))
    w.engine.advance(seconds=1)
    assert seen.delivered_ == [("email", "sent", None)]


def test_an_account_quota_of_two_lets_two_emails_out() -> None:
    """Each send counts one against the account's day. Kills limits.take_send's
    `ledger.add(account_day, 2)`."""
    engine, account, actor, sequence_id = _one_email_sequence({"daily_email_quota": 2})
    for resource_id in (1, 2, 3):
        engine.enroll(account, sequence_id=sequence_id, resource_type="lead",
                      resource_id=resource_id, actor_id=actor)
    engine.advance(seconds=1)
    assert [m.resource_id for m in engine.outbox(account)] == [1, 2]


def test_one_claim_of_many_counts_its_own_sends_against_the_daily_limit() -> None:
    """Two emails claimed together under a daily limit of one: the second sees the
    first's count, not yet written. Kills SendLedger.count's `read - changes`."""
    w = World(daily_email_limit=1)
    emails = w.sequence(email(0, 0))
    first, second = w.enroll(emails, resource_id=1), w.enroll(emails, resource_id=2)
    executor = Executor(w.engine.store, w.engine.delivery, w.engine.policy,
                        w.engine.clock, "w1")
    claims, taken = executor.claim(10)
    assert taken == 2
    assert [claim.request.enrollment_id for claim in claims] == [first]
    assert w.get(second).enrollment.current_action.failure_reason is (
        FailureReason.SENDOUT_LIMITED)


class _Units(_ReadsStore):
    def unit_of_work(self, *, read_only: bool = False) -> _Reads:
        self.calls.append(("unit_of_work", read_only))
        return super().unit_of_work(read_only=read_only)


def test_run_due_and_advance_take_the_in_process_pass_on_the_memory_store() -> None:
    """The simulator's path (engine/app/in_process.py): one unit of work for the whole pass, not the
    executor's three per enrollment. Kills SequenceEngine.run_due's and advance's mutants that
    pass None to in_process.applies (the executor's path answers the same, more slowly)."""
    for run in ("run_due", "advance"):
        w = World()
        emails = w.sequence(email(0, 0))
        w.enroll(emails, resource_id=1)
        w.enroll(emails, resource_id=2)
        store = _Units(w.engine.store)
        w.engine.store = store  # type: ignore[assignment]
        _run_or_advance(w, run, due=2)
        assert [call for call in store.calls if call[0] == "unit_of_work"] == [
            ("unit_of_work", False)], run
        assert len(w.engine.outbox(w.account)) == 2


def test_a_hosts_tasks_keep_run_due_and_advance_off_the_in_process_pass() -> None:
    """A host's task is created outside the store's lock: with a host, due work goes
    through the executor's claim, deliver and record. Kills run_due's and advance's
    `in_process.applies(..., None)` for the tasks."""
    for run in ("run_due", "advance"):
        w = World()
        w.engine.tasks = Host()
        w.enroll(w.sequence(email(0, 0)))
        store = _Units(w.engine.store)
        w.engine.store = store  # type: ignore[assignment]
        _run_or_advance(w, run, due=1)
        assert len(w.engine.outbox(w.account)) == 1
        assert [call for call in store.calls if call[0] == "take_due"] == [], run


class _InProcessHost(Host):
    """A host whose tasks are made inside this process, as the simulator's are."""

    in_process = True


def test_a_host_that_makes_its_tasks_in_process_keeps_the_in_process_pass() -> None:
    """Kills in_process.applies's `getattr(None, "in_process", False)` for the tasks."""
    w = World()
    w.engine.tasks = host = _InProcessHost()
    w.enroll(w.sequence(task(0, 0)))
    store = _Units(w.engine.store)
    w.engine.store = store  # type: ignore[assignment]
    w.engine.advance(seconds=1)
    assert len(host.calls) == 1
    # the task step's instant, nothing more due then, nothing more due at all
    assert [call[0] for call in store.calls if call[0] == "take_due"] == ["take_due"] * 3


def test_a_page_of_task_steps_is_judged_on_each_tasks_owner() -> None:
    """26 task steps whose tasks went to an owner in Tokyo: none is overdue at 00:00Z
    (Tokyo's Wednesday ends only at 15:00Z), listed together or read alone. Kills
    SequenceEngine._task_owners's `TaskFilter(ids=None)`, `Page(len(ids))` and
    `Page(1, )` (a page of 25: the 26th task's owner is not read)."""
    w = World()  # the actor is on UTC
    tasks = w.sequence(task(0, 0))
    ids = [w.enroll(tasks, resource_id=r) for r in range(1, 27)]
    w.engine.advance(seconds=1)
    tokyo = w.engine.create_user(w.account, time_zone="Asia/Tokyo").id
    for created in w.engine.list_tasks(w.account, page=Page(1, 100)):
        w.engine.update_task(w.account, created.id, owner_id=tokyo)
    w.engine.advance(to=datetime(2020, 12, 16, 0, 0, 1, tzinfo=UTC))
    views = w.engine.list_enrollments(w.account, page=Page(1, 100))
    assert sorted(view.enrollment.id for view in views) == ids
    assert [view.overdue_position for view in views] == [None] * 26
    assert w.get(ids[-1]).overdue_position is None
    w.engine.advance(to=datetime(2020, 12, 16, 15, 0, 1, tzinfo=UTC))
    assert w.get(ids[-1]).overdue_position == 0


def test_a_sequence_id_past_the_largest_is_refused_as_an_incorrect_value() -> None:
    """Kills catalog.create_sequence's mutants of the error's code (None, "XX...XX",
    upper case)."""
    w = World()
    with pytest.raises(ValidationFailed) as refused:
        w.engine.create_sequence(w.account, name="s", steps=[email(0, 0)],
                                 creator_id=w.actor, sequence_id=MAX_SEQUENCE_ID + 1)
    assert refused.value.errors == (ErrorDetail(
        "incorrect_value",
        f"a sequence id is at most {MAX_SEQUENCE_ID} (its steps' ids are derived from it)",
        "/data/id"),)
    assert w.engine.create_sequence(w.account, name="s", steps=[email(0, 0)],
                                    creator_id=w.actor, sequence_id=MAX_SEQUENCE_ID).id == (
        MAX_SEQUENCE_ID)


def test_a_sequence_of_too_many_steps_is_refused_with_the_count_it_got() -> None:
    """Kills catalog._check_step_count's mutants of the error's details and field."""
    w = World()
    steps = [email(position, 1) for position in range(STEP_ID_BASE)]
    with pytest.raises(ValidationFailed) as refused:
        w.engine.create_sequence(w.account, name="s", steps=steps, creator_id=w.actor)
    assert refused.value.errors == (ErrorDetail(
        "incorrect_value", f"a sequence has fewer than {STEP_ID_BASE} steps", "/data/steps",
        f"got {STEP_ID_BASE}"),)


def test_every_committed_write_calls_on_commit_and_a_read_does_not() -> None:
    """The scheduler's wake-up (engine/runtime/server.py passes it). Kills
    SequenceEngine.__init__'s `self.on_commit = None`."""
    commits: list[datetime] = []
    clock = SimulatedClock(TUESDAY_10_UTC)
    engine = build(MemoryStore(), clock, on_commit=lambda: commits.append(clock.now()))
    account = engine.create_account("acme").id
    assert commits == [TUESDAY_10_UTC]
    engine.list_users(account)
    assert len(commits) == 1
    engine.create_user(account)
    assert len(commits) == 2


def test_a_claim_that_sends_in_store_reports_each_send() -> None:
    """Kills Executor._make_in's `delivered(None, ...)` and `delivered(*_label(...))`."""
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    seen = Recorder()
    executor = Executor(w.engine.store, w.engine.delivery, w.engine.policy,
                        w.engine.clock, "w1", observer=seen)
    claims, taken = executor.claim(10, send_in_store=True)
    assert (claims, taken) == ([], 1)
    assert seen.delivered_ == [("email", "sent", None)]
    assert len(w.engine.outbox(w.account)) == 1


def test_a_claim_that_sends_in_store_reports_a_refused_sends_reason() -> None:
    """The reason reaches the observer after the commit. Kills _Held.delivered's
    `delivered(kind, outcome, None)` and `delivered(kind, outcome, )`."""
    w = World()
    w.enroll(w.sequence(email(0, 0)), resource_id=2)
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 2, FailureReason.RECIPIENT_INVALID))
    seen = Recorder()
    executor = Executor(w.engine.store, w.engine.delivery, w.engine.policy,
                        w.engine.clock, "w1", observer=seen)
    assert executor.claim(10, send_in_store=True) == ([], 1)
    assert [reason for _, _, reason in seen.delivered_] == ["recipient_invalid"]


def test_record_all_makes_and_records_in_enrollment_id_order() -> None:
    """Rows are locked in id order (as renew_leases locks them), whatever order the
    outcomes come in; the answers stay in the callers' order. Kills
    Executor.record_all's `sorted(..., key=None)` and `sorted(...)` (index order)."""
    w = World()
    emails = w.sequence(email(0, 0))
    first, second = w.enroll(emails, resource_id=1), w.enroll(emails, resource_id=2)
    worker = w.engine.executor("w1")
    claims, _ = worker.claim(10)
    assert [claim.lease.enrollment_id for claim in claims] == [first, second]
    backwards = [(claim, IN_RECORD) for claim in reversed(claims)]
    assert worker.record_all(backwards) == [SENT, SENT]
    assert [m.enrollment_id for m in w.engine.outbox(w.account)] == [first, second]


def test_a_calendar_change_replans_later_steps_even_when_the_current_one_stays() -> None:
    """Wednesday leaves the actor's weekmask: the current step (Tuesday) keeps its
    plan, the next one (a weekday on) moves to Thursday. Kills Enrollment.replan's
    default `settled=True` (the re-planning stopped at the unchanged current step)."""
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    before = w.get(enrollment_id).enrollment.actions[0].estimated_execute_at
    w.engine.update_user(w.actor, weekmask="1101100")
    actions = w.get(enrollment_id).enrollment.actions
    assert actions[0].estimated_execute_at == before  # Tuesday
    assert actions[1].estimated_execute_at == before + timedelta(days=2)  # Thursday


def test_an_enrollment_in_a_sequence_without_steps_is_shown_finished() -> None:
    """Enrolled in a sequence of no steps: finished at once, and shown (no current
    action to look a task up on). Kills SequenceEngine._view's `enrollment.actions or
    ...` (an IndexError for the current action)."""
    w = World()
    view = w.engine.enroll(w.account, sequence_id=w.sequence(), resource_type="lead",
                           resource_id=1, actor_id=w.actor)
    assert view.enrollment.state is EnrollmentState.FINISHED
    assert view.enrollment.actions == [] and view.overdue_position is None
