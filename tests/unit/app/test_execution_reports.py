"""What a worker reports to its ExecutionObserver (the metrics port): each delivery's
outcome label and failure reason, outcomes dropped after a takeover, and lease
renewals. The labels are a fixed vocabulary (engine/app/observer.py) that the
Prometheus series carry, so a changed label is a changed metric. Written against
mutants of engine/app/execution.py that only a report could show."""

from datetime import datetime, timedelta

from world import World, email, task

from engine import FailureReason, FailureRule, ResourceType
from engine.app.execution import SKIPPED, Executor
from engine.app.observer import ExecutionObserver
from engine.app.ports import SendRequest, SendResult, TaskCreated, TaskRequest
from engine.errors import DeliveryError


class Recorder(ExecutionObserver):
    def __init__(self) -> None:
        self.delivered_: list[tuple[str, str, str | None]] = []
        self.dropped_: list[str] = []
        self.renewed_: list[tuple[int, int]] = []
        self.claimed_: list[tuple[str, float | None, bool, bool]] = []

    def claimed(self, kind: str, *, latency: float | None, retry: bool, redelivery: bool
                ) -> None:
        self.claimed_.append((kind, latency, retry, redelivery))

    def delivered(self, kind: str, outcome: str, reason: str | None = None) -> None:
        self.delivered_.append((kind, outcome, reason))

    def dropped(self, kind: str) -> None:
        self.dropped_.append(kind)

    def renewed(self, held: int, lost: int) -> None:
        self.renewed_.append((held, lost))


class Unreachable:
    """An email delivery whose provider is down: every send is a transient failure."""

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        raise DeliveryError("provider unreachable")


class Refusing:
    """A provider that refuses every send and gives no reason."""

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        return SendResult(sent=False)


def worker(w: World, name: str = "w1", delivery: object = None) -> tuple[Executor, Recorder]:
    seen = Recorder()
    executor = Executor(w.engine.store, delivery or w.engine.delivery,  # type: ignore[arg-type]
                        w.engine.policy, w.engine.clock, name, observer=seen)
    return executor, seen


def test_a_sent_email_is_reported_sent() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    executor, seen = worker(w)
    assert executor.run_due() == 1
    assert seen.delivered_ == [("email", "sent", None)]


def test_a_failed_send_is_reported_with_its_reason() -> None:
    w = World()
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 1, FailureReason.RECIPIENT_INVALID))
    w.enroll(w.sequence(email(0, 0)))
    executor, seen = worker(w)
    executor.run_due()
    assert seen.delivered_ == [("email", "failed", "recipient_invalid")]


def test_a_failure_without_a_reason_is_reported_unknown() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    executor, seen = worker(w, delivery=Refusing())
    executor.run_due()
    assert seen.delivered_ == [("email", "failed", "unknown")]


def test_a_transient_failure_is_reported_as_an_error() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    executor, seen = worker(w, delivery=Unreachable())
    executor.run_due()
    assert seen.delivered_ == [("email", "error", None)]


def test_a_send_after_the_lease_ran_out_is_reported_skipped() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    executor, seen = worker(w)
    (claim,), _ = executor.claim(10)
    w.engine.clock.set(w.engine.clock.now() + w.engine.policy.lease)
    assert executor.deliver(claim) is SKIPPED
    assert seen.delivered_ == [("email", "skipped", None)]


def test_renewals_and_a_dropped_outcome_are_reported() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    paused, seen = worker(w, "paused")
    other, _ = worker(w, "other")
    (stale,), _ = paused.claim(10)
    assert paused.renew([stale.lease]) == [stale.lease]
    assert seen.renewed_ == [(1, 0)]
    w.engine.clock.set(w.engine.clock.now() + 2 * w.engine.policy.lease)
    (_fresh,), _ = other.claim(10)
    assert paused.renew([stale.lease]) == []
    assert seen.renewed_ == [(1, 0), (0, 1)]
    assert not paused.record(stale, SKIPPED)
    assert seen.dropped_ == ["email"]


# -- what a delivery carries --------------------------------------------------------

class Host:
    """A host that keeps its own tasks and remembers what it was asked to make."""

    def __init__(self) -> None:
        self.asked: list[TaskRequest] = []

    def create(self, request: TaskRequest, now: datetime) -> TaskCreated:
        self.asked.append(request)
        return TaskCreated(task_id=9000 + len(self.asked))


def test_an_email_carries_its_step_and_resource() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0, template=700)), resource_id=42)
    w.engine.run_due()
    (sent,) = w.engine.outbox(w.account)
    assert (sent.enrollment_id, sent.position, sent.actor_id, sent.resource_type,
            sent.resource_id, sent.email_template_id, sent.is_reply) == (
        enrollment_id, 0, w.actor, ResourceType.LEAD, 42, 700, False)


def test_a_hosts_task_carries_its_step_and_resource() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(task(0, 2, content="call them")), resource_id=42)
    host = Host()
    executor = Executor(w.engine.store, w.engine.delivery, w.engine.policy, w.engine.clock,
                        "w1", tasks=host)
    w.engine.clock.set(w.engine.clock.now() + timedelta(hours=2))
    assert executor.run_due() == 1
    (asked,) = host.asked
    planned = w.get(enrollment_id).enrollment.actions[0].estimated_execute_at
    assert (asked.enrollment_id, asked.position, asked.actor_id, asked.resource_type,
            asked.resource_id, asked.content, asked.due_date) == (
        enrollment_id, 0, w.actor, ResourceType.LEAD, 42, "call them", planned)
    assert w.get(enrollment_id).enrollment.actions[0].task_id == 9001


# -- claims ------------------------------------------------------------------------

def test_a_first_claim_reports_its_lateness_a_retry_and_a_redelivery_do_not() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    w.engine.clock.set(w.engine.clock.now() + timedelta(seconds=30))
    failing, seen = worker(w, "failing", delivery=Unreachable())
    failing.run_due()  # claimed 30 s after its plan, and fails for now
    w.engine.clock.set(w.engine.clock.now() + timedelta(days=1))
    failing.run_due()  # the retry
    assert seen.claimed_ == [("email", 30.0, False, False), ("email", None, True, False)]


def test_the_claim_of_a_vanished_worker_is_a_redelivery() -> None:
    w = World()
    w.enroll(w.sequence(task(0, 0)))
    host = Host()
    heir = Executor(w.engine.store, w.engine.delivery, w.engine.policy, w.engine.clock,
                    "heir", tasks=host, observer=(seen := Recorder()))
    first = Executor(w.engine.store, w.engine.delivery, w.engine.policy, w.engine.clock,
                     "first", tasks=host)
    assert len(first.claim(10)[0]) == 1  # ... and the worker is gone
    w.engine.clock.set(w.engine.clock.now() + w.engine.policy.lease)
    assert heir.run_due() == 1
    assert seen.claimed_ == [("task", None, False, True)]


def test_an_engine_kept_task_is_claimed_as_a_task() -> None:
    w = World()
    w.enroll(w.sequence(task(0, 0)))
    executor, seen = worker(w)
    assert executor.run_due() == 1
    assert seen.claimed_ == [("task", 0.0, False, False)]


def test_run_due_counts_every_enrollment_it_took() -> None:
    w = World()
    sequence_id = w.sequence(email(0, 0))
    for resource in (1, 2, 3):
        w.enroll(sequence_id, resource_id=resource)
    executor, _ = worker(w)
    assert executor.run_due() == 3
    assert executor.run_due() == 0


def test_run_due_settles_each_send_before_counting_the_next() -> None:
    """With a daily limit of one, a first send refused for a known reason gives its
    count back before the second is counted: the second goes out."""
    w = World(daily_email_limit=1)
    sequence_id = w.sequence(email(0, 0))
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 1, FailureReason.RECIPIENT_INVALID))
    w.enroll(sequence_id, resource_id=1)
    w.enroll(sequence_id, resource_id=2)
    executor, _ = worker(w)
    assert executor.run_due() == 2
    assert [m.resource_id for m in w.engine.outbox(w.account)] == [2]


def test_a_worker_holds_the_daily_limit() -> None:
    """The second email of a day with a limit of one is not sent: it is deferred as
    sendout_limited (the policy's default for the limit), never delivered."""
    w = World(daily_email_limit=1)
    sequence_id = w.sequence(email(0, 0))
    first, second = w.enroll(sequence_id, resource_id=1), w.enroll(sequence_id, resource_id=2)
    executor, seen = worker(w)
    assert executor.run_due() == 2
    assert [m.resource_id for m in w.engine.outbox(w.account)] == [1]
    assert seen.delivered_ == [("email", "sent", None)]
    assert w.get(first).enrollment.current_action.failure_reason is None
    assert w.get(second).enrollment.current_action.failure_reason is (
        FailureReason.SENDOUT_LIMITED)
