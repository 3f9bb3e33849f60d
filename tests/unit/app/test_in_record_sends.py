"""The built-in outbox is a write to the store (ports.InStoreDelivery): the
scheduler makes its send inside the transaction that records the outcome, right
after that transaction released the lease (engine/app/execution.py, IN_RECORD),
and records many outcomes in one transaction (`record_all`)."""

from world import World, email

from engine import ActionStatus, FailureReason, FailureRule, ResourceType
from engine.adapters.webhook import WebhookDelivery
from engine.app.execution import IN_RECORD, SKIPPED, Executor
from engine.app.ports import SENT, SendResult

A = ActionStatus


def sends_today(w: World) -> int:
    with w.engine.store.unit_of_work(read_only=True) as uow:
        return uow.count_sends("actor", w.actor, w.engine.clock.now().date())


def test_the_outbox_send_is_made_by_the_record_under_the_lease() -> None:
    w = World()
    first, second = w.enroll(w.sequence(email(0, 0))), w.enroll(w.sequence(email(0, 0)), 2)
    worker = w.engine.executor("w1")
    claims, _ = worker.claim(10)
    assert all(worker.sends_in_record(claim) for claim in claims)
    assert w.engine.outbox(w.account) == []  # nothing sent at the claim
    assert worker.record_all([(claim, IN_RECORD) for claim in claims]) == [SENT, SENT]
    assert [m.enrollment_id for m in w.engine.outbox(w.account)] == [first, second]
    assert all(w.get(e).enrollment.actions[0].status is A.COMPLETED for e in (first, second))


def test_a_worker_that_lost_its_lease_sends_nothing_from_the_record() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    paused, other = w.engine.executor("paused"), w.engine.executor("other")
    (stale,), _ = paused.claim(10)
    w.engine.clock.set(w.engine.clock.now() + w.engine.policy.lease)
    (fresh,), _ = other.claim(10)
    assert other.record_all([(fresh, IN_RECORD)]) == [SENT]
    assert paused.record_all([(stale, IN_RECORD)]) == [None]  # dropped, nothing sent
    assert len(w.engine.outbox(w.account)) == 1


def test_a_finished_enrollment_or_a_lease_run_out_gets_no_email() -> None:
    w = World()
    finished, late = w.enroll(w.sequence(email(0, 0))), w.enroll(w.sequence(email(0, 0)), 2)
    worker = w.engine.executor("w1")
    claims, _ = worker.claim(10)
    w.engine.update_enrollment_state(w.account, finished, "finished", actor_id=w.actor)
    w.engine.clock.set(w.engine.clock.now() + w.engine.policy.lease)  # unclaimed meanwhile
    assert worker.record_all([(claim, IN_RECORD) for claim in claims]) == [SKIPPED, SKIPPED]
    assert w.engine.outbox(w.account) == []
    assert w.get(finished).enrollment.actions[0].status is A.CANCELLED
    again = w.get(late).enrollment
    assert again.actions[0].status is A.IN_PROGRESS and again.due_at == w.engine.clock.now()


def test_a_failed_send_in_a_batch_gives_its_count_back_and_the_others_stand() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    blocked = w.enroll(w.sequence(email(0, 0)), resource_id=2)
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 2, FailureReason.RECIPIENT_INVALID))
    worker = w.engine.executor("w1")
    claims, _ = worker.claim(10)
    assert sends_today(w) == 2  # counted at the claim
    outcomes = worker.record_all([(claim, IN_RECORD) for claim in claims])
    assert outcomes == [SENT, SendResult(False, FailureReason.RECIPIENT_INVALID)]
    assert sends_today(w) == 1
    assert w.get(blocked).enrollment.actions[0].status is A.BLOCKED


def test_a_delivery_outside_the_store_is_made_before_the_record() -> None:
    w = World()
    w.enroll(w.sequence(email(0, 0)))
    webhook = WebhookDelivery("http://127.0.0.1:9/sends", "secret")
    worker = Executor(w.engine.store, webhook, w.engine.policy, w.engine.clock, "w1")
    (claim,), _ = worker.claim(10)
    assert not worker.sends_in_record(claim)
    webhook.close()


def test_a_claim_can_send_and_record_in_store_in_its_own_transaction() -> None:
    """The scheduler's claim (send_in_store): an outbox send needs no lease across
    transactions, so the claim makes and records it; a host's task is still returned."""
    w = World()
    first, second = w.enroll(w.sequence(email(0, 0))), w.enroll(w.sequence(email(0, 0)), 2)
    w.engine.set_failure_rule(
        FailureRule(w.account, ResourceType.LEAD, 2, FailureReason.RECIPIENT_INVALID))
    worker = w.engine.executor("w1")
    assert worker.claim(10, send_in_store=True) == ([], 2)
    assert [m.enrollment_id for m in w.engine.outbox(w.account)] == [first]
    assert w.get(first).enrollment.actions[0].status is A.COMPLETED
    assert w.get(second).enrollment.actions[0].status is A.BLOCKED
    assert sends_today(w) == 1  # the failed send gave its count back
    assert worker.claim(10, send_in_store=True) == ([], 0)  # no lease left behind
