"""The in-process pass (engine/app/in_process.py) leaves exactly what the executor's
claim, deliver and record leave, and stays fenced against a worker of the same store."""

from dataclasses import FrozenInstanceError, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from world import World, email

from engine import ActionStatus, DelayUnit, SequenceEngine
from engine.adapters.clocks import SimulatedClock, SystemClock
from engine.adapters.storage.memory import MemoryStore, MemoryUnitOfWork
from engine.app import in_process, limits
from engine.app.execution import SKIPPED
from engine.app.observer import ExecutionObserver
from engine.app.ports import SendRequest, SendResult
from engine.domain.account import User
from engine.domain.enums import EnrollmentState, FailureReason, LimitPolicy, ResourceType
from engine.runtime.simulation.runner import Simulation
from engine.runtime.simulation.scenario import Scenario, load_scenario
from engine.timeline import BusinessCalendar, calendar_for

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"


def final_state(simulation: Simulation) -> tuple[str, ...]:
    s = simulation.store
    return tuple(
        repr(part)
        for part in (
            sorted(s.enrollments.items()),
            sorted(s.tasks.items()),
            sorted(s.claims.items()),
            sorted(s.sends.items()),
            s.outbox,
            simulation.tally,
            simulation.clock.now(),
        )
    )


@pytest.mark.parametrize("scenario", ["two_reps.yaml", "year_end.yaml"])
def test_a_simulation_ends_in_the_same_state_with_or_without_the_in_process_pass(
    scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # replies, tasks, failures, transient errors, resumes, deletions and limits: each
    # takes its own branch of the protocol, and every one must end the same
    def simulate() -> Simulation:
        simulation = Simulation(load_scenario(EXAMPLES / scenario), enrollments=250, seed=3)
        simulation.run()
        return simulation

    fast = simulate()
    monkeypatch.setattr(in_process, "applies", lambda *_: False)
    slow = simulate()
    assert final_state(fast) == final_state(slow)
    assert fast.tally.emails_sent  # the run did something


class Reports(ExecutionObserver):
    """Everything the executor reports, in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[object, ...]] = []

    def claimed(self, kind: str, *, latency: float | None, retry: bool, redelivery: bool
                ) -> None:
        self.heard.append(("claimed", kind, latency, retry, redelivery))

    def delivered(self, kind: str, outcome: str, reason: str | None = None) -> None:
        self.heard.append(("delivered", kind, outcome, reason))


@pytest.mark.parametrize("observed", [False, True])
@pytest.mark.parametrize(
    "scenario", ["two_reps.yaml", "year_end.yaml", "tight block", "tight defer"]
)
def test_the_email_fast_path_ends_in_the_same_state_as_the_general_pass(
    scenario: str, observed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _send_email (scheduled email steps on the memory store) against _run_one (the
    # executor's own _dispatch, _make and _settle) for every step: sent, failed,
    # transient errors, both limits under both policies, replies and resumes
    reached: list[FailureReason] = []
    limit_reached = limits.limit_reached

    def count(enrollment: Any, actor: Any, reason: FailureReason, *rest: Any) -> None:
        reached.append(reason)
        limit_reached(enrollment, actor, reason, *rest)

    monkeypatch.setattr(limits, "limit_reached", count)

    def simulate() -> tuple[Simulation, list[tuple[object, ...]]]:
        simulation = Simulation(load(scenario), enrollments=250, seed=5)
        if scenario.startswith("tight"):  # the account's quota is reached too
            simulation.store.accounts[simulation.account].daily_email_quota = 25
        reports = Reports()
        if observed:
            simulation.engine.observer = reports
        simulation.run()
        return simulation, reports.heard

    fast, fast_reports = simulate()
    general: list[Any] = []

    def decline(*args: Any) -> bool:
        general.append(args)
        return False  # not taken: _run_one does it all

    monkeypatch.setattr(in_process, "_send_email", decline)
    slow, slow_reports = simulate()
    assert general  # the general pass really ran every step
    assert final_state(fast) == final_state(slow)
    assert fast_reports == slow_reports
    assert fast.tally.emails_sent
    if scenario.startswith("tight"):  # both limits were reached, on both paths alike
        assert reached.count(FailureReason.SENDOUT_LIMITED) % 2 == 0
        assert reached.count(FailureReason.QUOTA_EXCEEDED) % 2 == 0
        assert set(reached) == {FailureReason.SENDOUT_LIMITED, FailureReason.QUOTA_EXCEEDED}


def load(scenario: str) -> Scenario:
    """An example scenario, or two_reps with a daily limit low enough to be reached."""
    if not scenario.startswith("tight"):
        return load_scenario(EXAMPLES / scenario)
    two_reps = load_scenario(EXAMPLES / "two_reps.yaml")
    actors = tuple(replace(actor, daily_email_limit=15) for actor in two_reps.actors)
    policy = LimitPolicy.BLOCK if scenario.endswith("block") else LimitPolicy.DEFER
    return replace(two_reps, actors=actors, limit_policy=policy)


def test_the_pass_bumps_the_token_so_a_stale_worker_sends_and_records_nothing() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    stale = w.engine.executor("stale")
    (claim,), _ = stale.claim(10)  # ... and the worker stops here until its lease ran out
    w.engine.advance(seconds=w.engine.policy.lease.total_seconds())
    (sent,) = w.engine.outbox(w.account)  # the in-process pass took it over and sent it
    assert sent.idempotency_key == claim.request.idempotency_key
    assert w.engine.store.claims[claim.lease.enrollment_id] == (None, claim.lease.seq + 1, None)
    assert stale.deliver(claim) is SKIPPED
    assert not stale.record(claim, SendResult(True))
    assert len(w.engine.outbox(w.account)) == 1


def test_the_pass_keeps_the_order_and_instant_of_each_piece_of_due_work() -> None:
    w = World()
    sequence = w.sequence(email(0, 0), email(1, 1))
    first, second = w.enroll(sequence, 1), w.enroll(sequence, 2)
    w.engine.advance(seconds=10 * 86400)
    keys = [m.idempotency_key for m in w.engine.outbox(w.account)]
    assert keys == [f"{first}:0:0", f"{second}:0:0", f"{first}:1:0", f"{second}:1:0"]
    for enrollment_id in (first, second):
        actions = w.get(enrollment_id).enrollment.actions
        assert all(a.status is ActionStatus.COMPLETED for a in actions)


class RemoteDelivery:
    """Says nothing about where its sends complete: it might be an HTTP call."""

    def send(self, request: SendRequest, now: Any) -> SendResult:
        return SendResult(True)


def test_the_pass_runs_only_on_a_simulated_clock_in_process_and_on_a_due_index() -> None:
    store, clock = MemoryStore(), SimulatedClock(World().engine.clock.now())
    outbox = World().engine.delivery
    assert in_process.applies(store, clock, outbox, None)
    assert not in_process.applies(store, SystemClock(), outbox, None)
    assert not in_process.applies(store, clock, RemoteDelivery(), None)
    assert not in_process.applies(store, clock, outbox, RemoteDelivery())
    assert not in_process.applies(object(), clock, outbox, None)  # e.g. SQLite's store


def test_a_remote_delivery_still_goes_through_claim_deliver_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: object) -> int:
        raise AssertionError("a remote delivery must not run under the store's lock")

    monkeypatch.setattr(in_process, "_drain", refuse)
    w = World()
    engine: SequenceEngine = w.engine
    engine.delivery = RemoteDelivery()
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    engine.advance(seconds=60)
    (action,) = w.get(enrollment_id).enrollment.actions
    assert action.status is ActionStatus.COMPLETED
    assert engine.store.claims[enrollment_id] == (None, 1, None)  # claimed, then released


# The three ways due work runs on the memory store: the pass with its email fast path
# (`_drain_in_memory`), the pass's own loop for a due index whose units of work keep no
# tables (`_drain`'s loop, each enrollment through `_run_one`), and the executor's.
PATHS = ["fast", "general", "executor"]


def take(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if path == "general":
        monkeypatch.delattr(MemoryUnitOfWork, "tables")
    elif path == "executor":
        monkeypatch.setattr(in_process, "applies", lambda *_: False)


def two_steps(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[World, datetime, int]:
    """On `path`: a world, its start, and an enrollment in an email now and one 2 hours on."""
    take(path, monkeypatch)
    w = World()
    start = w.engine.clock.now()
    return w, start, w.enroll(w.sequence(email(0, 0), email(1, 2, DelayUnit.HOURS)))


@pytest.mark.parametrize("path", PATHS)
def test_advance_stops_before_work_later_than_the_callers_next_event(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, start, enrollment_id = two_steps(path, monkeypatch)
    event = start + timedelta(hours=1)
    reached = w.engine.advance(to=start + timedelta(hours=10), horizon=lambda: event)
    assert reached == start  # step 0 ran at its instant; step 1 (2 hours on) waits
    assert w.get(enrollment_id).enrollment.current_step_position == 1
    assert w.engine.advance(to=event, horizon=lambda: event) == event  # nothing due: moves
    assert w.engine.advance(to=start + timedelta(hours=10), horizon=lambda: None) == start + (
        timedelta(hours=10)
    )
    assert len(w.engine.outbox(w.account)) == 2


def test_advance_keeps_the_clock_when_the_callers_event_comes_first() -> None:
    w = World()
    start = w.engine.clock.now()
    event = start + timedelta(minutes=5)
    assert w.engine.advance(to=start + timedelta(hours=1), horizon=lambda: event) == start
    assert w.engine.clock.now() == start


def test_the_pass_is_judged_once_per_set_of_parts_and_again_when_one_is_replaced() -> None:
    # SequenceEngine._in_process_executor: one executor while nothing changes (no
    # Protocol check per advance, P4), a new one as soon as any part is replaced
    w = World()
    engine: SequenceEngine = w.engine
    first = engine._in_process_executor()
    assert first is not None and first is engine._in_process_executor()
    assert (first.store, first.clock, first.delivery, first.policy, first.observer) == (
        engine.store, engine.clock, engine.delivery, engine.policy, engine.observer)
    engine.observer = reports = Reports()
    second = engine._in_process_executor()
    assert second is not None and second is not first and second.observer is reports
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    engine.advance(seconds=60)
    assert [heard[:3] for heard in reports.heard] == [
        ("claimed", "email", 0.0), ("delivered", "email", "sent")]
    engine.policy = replace(engine.policy, lease=timedelta(minutes=7))
    third = engine._in_process_executor()
    assert third is not None and third.policy is engine.policy
    engine.clock = clock = SimulatedClock(engine.clock.now())
    fourth = engine._in_process_executor()
    assert fourth is not None and fourth is not third and fourth.clock is clock
    kept, engine.store = engine.store, MemoryStore()
    fifth = engine._in_process_executor()
    assert fifth is not None and fifth is not fourth and fifth.store is engine.store
    engine.store = kept
    assert engine._in_process_executor() is not fifth
    engine.tasks = RemoteDelivery()  # type: ignore[assignment]  # a host's: not in process
    assert engine._in_process_executor() is None
    engine.tasks = None
    assert engine._in_process_executor() is not None
    engine.delivery = RemoteDelivery()  # the pass no longer applies: the executor's way
    assert engine._in_process_executor() is None
    assert engine.run_due() == 0
    assert w.get(enrollment_id).enrollment.state.value == "finished"


class Keeping:
    """An in-process delivery that keeps each request it is given."""

    in_process = True

    def __init__(self) -> None:
        self.requests: list[SendRequest] = []

    def send(self, request: SendRequest, now: Any) -> SendResult:
        self.requests.append(request)
        return SendResult(True)


def test_the_fast_paths_request_is_a_true_send_request() -> None:
    # _send_email builds it as an _OpenRequest and re-classes it: it must be a
    # SendRequest in every way a delivery can tell (type, equality, hash, frozen)
    w = World()
    w.engine.delivery = keeping = Keeping()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 2, DelayUnit.HOURS)))
    start = w.engine.clock.now()
    w.engine.advance(seconds=3 * 3600)
    first, second = keeping.requests
    lease = w.engine.policy.lease
    assert type(first) is SendRequest
    expected = SendRequest(f"{enrollment_id}:0:0", w.account, enrollment_id, 0, w.actor,
                           ResourceType.LEAD, 1, 100, False, start + lease)
    assert first == expected and hash(first) == hash(expected)
    assert repr(first) == repr(expected)
    assert second == replace(expected, idempotency_key=f"{enrollment_id}:1:0", position=1,
                             email_template_id=101,
                             lease_expires_at=start.replace(microsecond=0) + timedelta(hours=2)
                             + lease)  # step 1 is planned from step 0 as recorded
    with pytest.raises(FrozenInstanceError):
        first.position = 5  # type: ignore[misc]


class FailingFirst(Keeping):
    """Keeps each request; fails the first send for good (the enrollment blocks)."""

    def send(self, request: SendRequest, now: Any) -> SendResult:
        self.requests.append(request)
        return SendResult(True) if len(self.requests) > 1 else SendResult(False, FailureReason.AUTH)


def test_the_fast_paths_key_of_a_resumed_step_counts_its_resumes() -> None:
    w = World()
    w.engine.delivery = failing = FailingFirst()
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    w.engine.advance(seconds=60)
    assert w.get(enrollment_id).enrollment.state is EnrollmentState.BLOCKED
    w.engine.update_enrollment_state(
        w.account, enrollment_id, EnrollmentState.ACTIVE, actor_id=w.actor
    )
    w.engine.advance(seconds=60)
    assert w.get(enrollment_id).enrollment.state is EnrollmentState.FINISHED
    keys = [request.idempotency_key for request in failing.requests]
    assert keys == [f"{enrollment_id}:0:0", f"{enrollment_id}:0:1"]


@pytest.mark.parametrize("scenario", ["two_reps.yaml", "tight block"])
def test_a_due_index_without_tables_takes_the_general_loop_to_the_same_end(
    scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `_drain`'s own loop (no MemoryTables to write in place) against the email fast
    # path: the same end state and the same reports. Kills the mutants of that loop
    # (2026-12-06: `while False`, the unit of work, take_due, the horizon and clock
    # checks, `_run_one`'s arguments, the save after it).
    def simulate() -> tuple[Simulation, list[tuple[object, ...]]]:
        simulation = Simulation(load(scenario), enrollments=120, seed=7)
        simulation.engine.observer = reports = Reports()
        simulation.run()
        return simulation, reports.heard

    fast, fast_reports = simulate()
    monkeypatch.delattr(MemoryUnitOfWork, "tables")
    taken: list[object] = []
    run_one = in_process._run_one
    monkeypatch.setattr(in_process, "_run_one", lambda *a: taken.append(a) or run_one(*a))
    general, general_reports = simulate()
    assert taken  # the general loop really ran
    assert final_state(fast) == final_state(general)
    assert fast_reports == general_reports
    assert fast.tally.emails_sent


@pytest.mark.parametrize("path", PATHS)
def test_run_due_counts_the_enrollments_it_took(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kills `_drain`'s `done` mutants (0 to start, one more per enrollment)
    take(path, monkeypatch)
    w = World()
    sequence = w.sequence(email(0, 0), email(1, 1))
    for resource in (1, 2, 3):
        w.enroll(sequence, resource)
    assert w.engine.run_due() == 3
    assert w.engine.run_due() == 0
    assert len(w.engine.outbox(w.account)) == 3


@pytest.mark.parametrize("path", PATHS)
def test_advance_runs_work_due_at_the_callers_next_event(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # work due exactly at the caller's event runs (only later work waits), and the
    # clock stays there for the caller: kills `due >= event` in `_drain`'s loop
    w, start, enrollment_id = two_steps(path, monkeypatch)
    w.engine.advance(seconds=60)
    event = start.replace(microsecond=0) + timedelta(hours=2)  # step 1's instant
    assert w.get(enrollment_id).enrollment.actions[1].estimated_execute_at == event
    assert w.engine.advance(to=event + timedelta(hours=5), horizon=lambda: event) == event
    assert len(w.engine.outbox(w.account)) == 2


class Crashing:
    """An in-process delivery whose host dies mid-send (not a DeliveryError)."""

    in_process = True

    def send(self, request: SendRequest, now: Any) -> SendResult:
        raise RuntimeError("the host died")


@pytest.mark.parametrize("path", PATHS)
def test_a_send_that_crashes_leaves_the_enrollment_due_when_its_lease_runs_out(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as after a claim: the enrollment comes due again at its lease's end. Kills
    # `_send_email`'s `enrollment.due_at = None` (never due again).
    w, start, enrollment_id = two_steps(path, monkeypatch)
    w.engine.delivery = Crashing()
    with pytest.raises(RuntimeError, match="the host died"):
        w.engine.advance(seconds=60)
    lease_end = start + w.engine.policy.lease
    assert w.engine.store.enrollments[enrollment_id].due_at == lease_end
    assert w.engine.next_due_at() == lease_end


# The work due at one instant is one unit of work on the fast path (`_drain_in_memory`):
# one lock, one clock read, each actor's calendar and send days read at its first email.
WEDNESDAY_3_UTC = datetime(2020, 12, 16, 3, 0, tzinfo=UTC)  # Tuesday 22:00 in New York


def two_zones(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[World, int, int]:
    """On `path`: a world at 03:00Z on a Wednesday with an actor in New York (where it
    is still Tuesday) and one in Tokyo, three emails due now: New York's, Tokyo's, New
    York's again."""
    take(path, monkeypatch)
    w = World(start=WEDNESDAY_3_UTC)
    new_york = w.engine.create_user(w.account, time_zone="America/New_York").id
    tokyo = w.engine.create_user(w.account, time_zone="Asia/Tokyo").id
    emails = w.sequence(email(0, 0))
    for resource_id, actor_id in ((1, new_york), (2, tokyo), (3, new_york)):
        w.engine.enroll(w.account, sequence_id=emails, resource_type="lead",
                        resource_id=resource_id, actor_id=actor_id)
    return w, new_york, tokyo


@pytest.mark.parametrize("path", PATHS)
def test_emails_of_two_actors_at_one_instant_count_on_each_actors_own_day(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the unit keeps each actor's days by actor id (not by account, not the first
    # actor's for all): kills `days` keyed or read by another id
    w, new_york, tokyo = two_zones(path, monkeypatch)
    assert w.engine.run_due() == 3
    tuesday, wednesday = date(2020, 12, 15), date(2020, 12, 16)
    assert dict(w.engine.store.sends) == {
        ("account", w.account, wednesday): 3,
        ("actor", new_york, tuesday): 2,
        ("actor", tokyo, wednesday): 1,
    }
    for view in w.engine.list_enrollments(w.account):
        assert view.enrollment.actions[0].executed_at == WEDNESDAY_3_UTC


class CountedUser(User):
    """A user whose calendar reads are counted."""

    reads = 0

    @property
    def calendar(self) -> BusinessCalendar:
        CountedUser.reads += 1
        return calendar_for(self.time_zone, self.holidays, self.weekmask, self.send_window)


def test_a_unit_reads_each_actors_calendar_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # kills the unit's `days[...] = ...` dropped or read by another key (each email
    # would read its actor's calendar again)
    w, new_york, _ = two_zones("fast", monkeypatch)
    users = w.engine.store.users
    user = users[new_york]
    users[new_york] = CountedUser(*(getattr(user, f.name) for f in fields(User)))
    monkeypatch.setattr(CountedUser, "reads", 0)
    assert w.engine.run_due() == 3
    assert CountedUser.reads == 1  # two emails of New York's, one unit


@pytest.mark.parametrize("path", ["fast", "general"])
def test_advance_stops_between_two_pieces_of_one_instant_at_an_earlier_event(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the horizon is asked before every piece of work, also within the work due at one
    # instant: an event the first piece made (here: one second before it) comes first
    w, _, _ = two_zones(path, monkeypatch)
    answers: list[datetime | None] = [None, WEDNESDAY_3_UTC - timedelta(seconds=1)]

    def horizon() -> datetime | None:
        return answers.pop(0) if answers else WEDNESDAY_3_UTC - timedelta(seconds=1)

    reached = w.engine.advance(to=WEDNESDAY_3_UTC + timedelta(hours=1), horizon=horizon)
    assert reached == WEDNESDAY_3_UTC
    assert len(w.engine.outbox(w.account)) == 1  # the first piece only
    assert w.engine.next_due_at() == WEDNESDAY_3_UTC  # the others wait, still due
    assert w.engine.run_due() == 2
