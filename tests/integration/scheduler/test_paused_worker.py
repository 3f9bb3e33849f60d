"""A worker stopped (SIGSTOP) past its lease while another takes over: after SIGCONT
it sends nothing, and no enrollment finished meanwhile gets an email after its finish.

engine/app/execution.py: the claim (step 1) expires with its lease and the second
worker claims it with a higher fencing token; the stale worker's re-check before the
send (step 2) fails, so it sends nothing; its record (step 3) finds the lease gone
and changes nothing.
"""

import signal
from collections.abc import Callable

from fleet import Fleet, Probe, Worker, prepare, wait_until
from webhook_receiver import Receiver

from engine import ActionStatus, SystemClock

LEASE = 1.5
TAKEN_OVER = "lease was taken over"  # the worker's warning when an outcome is dropped


def take_over_and_resume(
    stale: Worker, held: list[int], finished: list[int], fleet: Fleet, probe: Probe,
    receiver: Receiver, url: str,
) -> None:
    """While `stale` is stopped: finish `finished`, let a second worker drain everything.
    Then resume `stale`, and wait until it has dropped every claim it held."""
    assert stale.stopped
    finished_at = {}
    for enrollment_id in finished:
        probe.finish(enrollment_id)
        finished_at[enrollment_id] = SystemClock().now()
    second = fleet.start(url, delivery=f"webhook:{receiver.url}", lease=LEASE, concurrency=4)
    wait_until(probe.drained, what="the second worker's drain")
    assert second.terminate() == 0
    heard_before = len(receiver.snapshot())
    resumed_at = SystemClock().now()
    stale.signal(signal.SIGCONT)
    wait_until(lambda: stale.stderr().count(TAKEN_OVER) >= len(held),
               what="the stale worker's drop of its claims")
    assert stale.terminate() == 0
    arrivals = receiver.snapshot()
    assert arrivals[heard_before:] == []  # it sent nothing after it resumed
    assert [a for a in arrivals if a.at >= resumed_at] == []
    for enrollment_id, at in finished_at.items():  # no email after a finish
        late = [a for a in arrivals if a.body["enrollment_id"] == enrollment_id and a.at >= at]
        assert late == []
    assert stale.stderr().count(TAKEN_OVER) == len(held)
    assert "Traceback" not in stale.stderr()


def test_a_worker_frozen_between_claim_and_send_sends_nothing_after_it_resumes(
    database_url: str, fleet: Fleet, receivers: Callable[..., Receiver]
) -> None:
    world = prepare(database_url, enrollments_due=14)
    receiver = receivers()
    probe = Probe(world)
    try:
        stale = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=LEASE,
                            concurrency=6, pause="after_claim#1:stop")
        wait_until(lambda: stale.stopped, what="the pause after the first claim")
        held = probe.in_progress()  # claimed (in_progress), never sent
        assert len(held) == 6 and receiver.snapshot() == []
        untouched = sorted(set(world.ids) - set(held))
        finished = held[:3] + untouched[:2]
        take_over_and_resume(stale, held, finished, fleet, probe, receiver, database_url)
        statuses = probe.statuses()
        assert {statuses[e][0] for e in finished} == {ActionStatus.CANCELLED}
        assert receiver.counts() == dict.fromkeys(world.keys(set(world.ids) - set(finished)), 1)
    finally:
        probe.close()


def test_a_worker_stopped_with_sends_in_flight_sends_nothing_after_it_resumes(
    database_url: str, fleet: Fleet, receivers: Callable[..., Receiver]
) -> None:
    """SIGSTOP from outside while its four sends wait on a slow receiver; the replies
    reach it only after it resumes, when its leases belong to the second worker."""
    world = prepare(database_url, enrollments_due=16)
    receiver = receivers(delay=1.0)
    probe = Probe(world)
    try:
        stale = fleet.start(database_url, delivery=f"webhook:{receiver.url}", lease=LEASE,
                            concurrency=4)
        receiver.wait_for(lambda r: r.in_flight == 4)  # every sender thread inside a send
        stale.signal(signal.SIGSTOP)
        wait_until(lambda: stale.stopped, what="SIGSTOP")
        held = sorted(a.body["enrollment_id"] for a in receiver.snapshot())
        assert len(held) == 4
        untouched = sorted(set(world.ids) - set(held))
        finished = held[:2] + untouched[:2]
        take_over_and_resume(stale, held, finished, fleet, probe, receiver, database_url)
        statuses = probe.statuses()
        # the held sends reached the receiver before their finish; recorded as abandoned,
        # since the worker that made them never reported back (docs/runtime.md)
        assert {statuses[e][0] for e in finished} == {ActionStatus.CANCELLED}
        assert set(receiver.effects) == world.keys(set(world.ids) - set(untouched[:2]))
        assert all(n <= 2 for n in receiver.counts().values())  # one redelivery at most
    finally:
        probe.close()
