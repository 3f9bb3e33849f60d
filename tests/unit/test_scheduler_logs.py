"""Every scheduler log line about a claim carries its account, enrollment and step
(position) as `extra` fields, so the JSON log format shows them."""

import json
import threading
import time

import pytest

from engine import ActionType, DelayUnit, Step, build
from engine.adapters.clocks import SystemClock
from engine.adapters.storage.memory import MemoryStore
from engine.app.ports import SendRequest, SendResult
from engine.errors import DeliveryError
from engine.runtime.logs import JsonFormatter
from engine.runtime.scheduler import Scheduler


class TwoTries:
    """Fails the first send of each key transiently, then sends."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.sent = threading.Event()

    def send(self, request: SendRequest, now: object) -> SendResult:
        if request.idempotency_key not in self.seen:
            self.seen.add(request.idempotency_key)
            raise DeliveryError("receiver busy")
        self.sent.set()
        return SendResult(True)


def test_claim_log_lines_carry_account_enrollment_and_position_in_json(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivery = TwoTries()
    engine = build(MemoryStore(), SystemClock(), delivery)
    account = engine.create_account("a").id
    actor = engine.create_user(account).id
    sequence = engine.create_sequence(account, name="s", creator_id=actor, steps=[
        Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False)]).id
    enrollment = engine.enroll(account, sequence_id=sequence, resource_type="lead",
                               resource_id=1, actor_id=actor).enrollment.id
    scheduler = Scheduler(engine, max_idle=0.01)
    caplog.set_level("INFO", logger="seqengine.scheduler")
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not any("will retry" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the first attempt was never recorded"
            time.sleep(0.01)  # the scheduler's threads run on the wall clock
        # the retry is due in 30 s: bring it forward rather than wait
        with engine.store.unit_of_work() as uow:
            e = uow.get_enrollment(account, enrollment)
            assert e is not None and e.due_at is not None
            e.due_at = engine.clock.now()
            uow.save_enrollment(e)
            uow.commit()
        scheduler.wake.set()
        assert delivery.sent.wait(10)
    finally:
        scheduler.stop()
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records
             if r.name == "seqengine.scheduler"]
    about = [line for line in lines if line["message"] in ("sent", "email failed, will retry: "
                                                                   "receiver busy")]
    assert len(about) == 2, lines
    for line in about:
        assert (line["account_id"], line["enrollment_id"], line["position"]) == (
            account, enrollment, 0)
        assert line["idempotency_key"] == f"{enrollment}:0:0" and line["kind"] == "email"
