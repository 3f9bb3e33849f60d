"""Fenced delivery (semantics.md invariant 6), step by step of engine/app/execution.py.

Two workers share one store and one simulated clock; "pausing" a worker is
simply not running its next step until the clock has moved on."""

from datetime import timedelta

from world import World, email

from engine import ActionStatus, EnrollmentState, FailureReason, FailureRule, ResourceType
from engine.app.execution import SKIPPED
from engine.app.ports import SENT, SendResult
from engine.errors import DeliveryError

A, E = ActionStatus, EnrollmentState


def lease(w: World) -> timedelta:
    return w.engine.policy.lease


def test_step_2_an_enrollment_finished_before_the_send_gets_no_email() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    worker = w.engine.executor("w1")
    (claim,), _ = worker.claim(10)
    w.engine.update_enrollment_state(w.account, enrollment_id, "finished", actor_id=w.actor)
    assert worker.deliver(claim) is SKIPPED
    assert worker.record(claim, SKIPPED)
    assert w.engine.outbox(w.account) == []
    e = w.get(enrollment_id).enrollment
    assert [a.status for a in e.actions] == [A.CANCELLED, A.CANCELLED] and e.due_at is None


def test_step_2_a_worker_paused_past_its_lease_sends_nothing_after_a_takeover() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    paused, other = w.engine.executor("paused"), w.engine.executor("other")
    (stale,), _ = paused.claim(10)  # ... and the worker stops here
    w.engine.clock.set(w.engine.clock.now() + lease(w))  # its lease runs out
    (fresh,), _ = other.claim(10)
    assert fresh.request.idempotency_key == stale.request.idempotency_key  # the same send
    assert fresh.lease.seq == stale.lease.seq + 1
    assert other.record(fresh, other.deliver(fresh))
    assert paused.deliver(stale) is SKIPPED  # it wakes up: nothing is sent
    assert not paused.record(stale, SENT)  # and what it says changes nothing
    assert len(w.engine.outbox(w.account)) == 1


def test_step_2_a_lease_that_ran_out_unclaimed_comes_due_again_at_once() -> None:
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0)))
    worker = w.engine.executor("w1")
    (claim,), _ = worker.claim(10)
    w.engine.clock.set(w.engine.clock.now() + lease(w))
    assert worker.deliver(claim) is SKIPPED
    assert worker.record(claim, SKIPPED)
    e = w.get(enrollment_id).enrollment
    assert e.current_action.status is A.IN_PROGRESS and e.due_at == w.engine.clock.now()
    w.engine.advance(seconds=1)
    (sent,) = w.engine.outbox(w.account)
    assert sent.idempotency_key == claim.request.idempotency_key


def test_step_2_renewing_keeps_the_lease_past_its_first_end() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    worker, other = w.engine.executor("w1"), w.engine.executor("w2")
    (claim,), _ = worker.claim(10)
    for _ in range(3):  # a long send: renewed at half the lease, three times over
        w.engine.clock.set(w.engine.clock.now() + lease(w) / 2)
        (renewed,) = worker.renew([claim.lease])
        assert renewed.until == w.engine.clock.now() + lease(w)
        assert other.claim(10) == ([], 0)
    assert renewed.until > claim.request.lease_expires_at
    assert worker.still_held(renewed)


def test_step_2_renewal_reports_a_lost_lease() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    paused, other = w.engine.executor("paused"), w.engine.executor("other")
    (stale,), _ = paused.claim(10)
    w.engine.clock.set(w.engine.clock.now() + lease(w))
    other.claim(10)
    assert paused.renew([stale.lease]) == []


def test_step_2_the_send_carries_the_lease_end() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    (claim,), _ = w.engine.executor("w1").claim(10)
    assert claim.request.lease_expires_at == w.engine.clock.now() + lease(w)
    assert claim.request.lease_expires_at == claim.lease.until


def test_step_2_the_outbox_refuses_a_send_that_arrives_after_its_lease() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    (claim,), _ = w.engine.executor("w1").claim(10)
    late = claim.request.lease_expires_at
    try:
        w.engine.delivery.send(claim.request, late)
    except DeliveryError as error:
        assert "lease" in error.message
    else:
        raise AssertionError("a late send was accepted")
    assert w.engine.outbox(w.account) == []


def test_step_3_a_stale_outcome_after_a_resume_changes_nothing() -> None:
    """#12's scenario: generation 0 stalls, its re-delivery blocks, the enrollment is
    resumed, generation 1 is claimed, then generation 0's "sent" arrives."""
    w = World()
    enrollment_id = w.enroll(w.sequence(email(0, 0), email(1, 1)))
    stalled, other = w.engine.executor("stalled"), w.engine.executor("other")
    (gen0,), _ = stalled.claim(10)
    w.engine.clock.set(w.engine.clock.now() + lease(w))
    (redelivery,), _ = other.claim(10)
    assert other.record(redelivery, SendResult(False, FailureReason.AUTH))
    assert w.get(enrollment_id).enrollment.state is E.BLOCKED
    w.engine.update_enrollment_state(w.account, enrollment_id, "active", actor_id=w.actor)
    (gen1,), _ = other.claim(10)
    assert gen1.request.idempotency_key == f"{enrollment_id}:0:1"
    assert not stalled.record(gen0, SENT)  # the late outcome of generation 0
    e = w.get(enrollment_id).enrollment
    assert e.state is E.ACTIVE and e.current_step_position == 0
    assert e.current_action.status is A.IN_PROGRESS and e.current_action.generation == 1
    assert other.record(gen1, other.deliver(gen1))
    assert [m.idempotency_key for m in w.engine.outbox(w.account)] == [f"{enrollment_id}:0:1"]


def test_a_send_failed_for_a_known_reason_gives_its_daily_count_back() -> None:
    """#7 item 9: with a limit of 2, a first send that fails recipient_invalid leaves
    room for the two others."""
    w = World(daily_email_limit=2)
    sequence_id = w.sequence(email(0, 0))
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 1, FailureReason.RECIPIENT_INVALID))
    for resource in (1, 2, 3):
        w.enroll(sequence_id, resource_id=resource)
    w.engine.advance(seconds=60)
    sent = sorted(m.resource_id for m in w.engine.outbox(w.account))
    assert sent == [2, 3]
    states = [w.get(i).enrollment.current_action.failure_reason for i in (1, 2, 3)]
    assert states == [FailureReason.RECIPIENT_INVALID, None, None]


def test_an_unknown_failure_keeps_its_daily_count() -> None:
    w = World(daily_email_limit=2)
    sequence_id = w.sequence(email(0, 0))
    w.engine.set_failure_rule(FailureRule(w.account, ResourceType.LEAD, 1, FailureReason.UNKNOWN))
    for resource in (1, 2, 3):
        w.enroll(sequence_id, resource_id=resource)
    w.engine.advance(seconds=60)
    assert [m.resource_id for m in w.engine.outbox(w.account)] == [2]
    assert w.get(3).enrollment.current_action.failure_reason is FailureReason.SENDOUT_LIMITED
