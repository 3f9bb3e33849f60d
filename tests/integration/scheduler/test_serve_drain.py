"""SIGTERM drains `seqengine serve` (engine/runtime/server.py drain_at_exit): a send
under way when the signal arrives is finished and recorded, and the process exits
well within the lease. Real processes, a real slow receiver on 127.0.0.1."""

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import ActionStatus, ActionType, DelayUnit, Step, SystemClock, build
from engine.adapters.storage.sqlite import SqliteStore
from tests.integration.cli.processes import environment
from tests.integration.receiver import receiving
from tests.integration.served import SEQENGINE, free_port, wait_until

SLOW = 2.0  # seconds the receiver takes to answer


class SlowReceiver:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.keys: list[str] = []


@pytest.fixture
def receiver() -> Iterator[tuple[SlowReceiver, str]]:
    state = SlowReceiver()

    def answer(headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        state.keys.append(headers["Idempotency-Key"])
        state.started.set()
        time.sleep(SLOW)  # a slow receiver: real time, the send really is under way
        return 200, b'{"status": "sent"}'

    with receiving(answer) as url:
        yield state, url


def test_sigterm_during_a_slow_send_records_it_and_exits_within_the_lease(
    tmp_path: Path, receiver: tuple[SlowReceiver, str]
) -> None:
    state, url = receiver
    db = tmp_path / "drain.db"
    with SqliteStore(str(db)) as store:
        engine = build(store, SystemClock())
        account = engine.create_account("a").id
        actor = engine.create_user(account).id
        sequence = engine.create_sequence(account, name="now", creator_id=actor, steps=[
            Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False),
            Step(1, 9, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 2, False)]).id
        enrollment, waiting = (engine.enroll(
            account, sequence_id=sequence, resource_type="lead", resource_id=resource,
            actor_id=actor).enrollment.id for resource in (1, 2))
    server = subprocess.Popen(
        [SEQENGINE, "--db", f"sqlite:///{db}", "serve", "--port", str(free_port()),
         "--delivery", f"webhook:{url}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env=environment())
    try:
        assert state.started.wait(timeout=60), "the send never started"
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)  # granian's main process, as an orchestrator does
        output, _ = server.communicate(timeout=60)
        took = time.monotonic() - signalled
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, output
    assert took < 30, f"exit took {took:.1f} s"  # the lease is 300 s
    assert state.keys == [f"{enrollment}:0:0"]
    with SqliteStore(str(db)) as store:
        e = build(store, SystemClock()).get_enrollment(account, enrollment).enrollment
        w = build(store, SystemClock()).get_enrollment(account, waiting).enrollment
    assert e.actions[0].status is ActionStatus.COMPLETED  # recorded, not left in_progress
    assert e.current_step_position == 1
    # one send at a time (concurrency 1): the other was due but never claimed after
    # the signal, so it is due at once for the next process, not stuck behind a lease
    assert w.actions[0].status is ActionStatus.SCHEDULED
    assert w.due_at is not None and w.due_at <= datetime.now(UTC)


def test_sigterm_while_idle_exits_at_once(tmp_path: Path) -> None:
    db = tmp_path / "idle.db"
    SqliteStore(str(db)).close()
    port = free_port()
    server = subprocess.Popen(
        [SEQENGINE, "--db", f"sqlite:///{db}", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env=environment())
    import httpx

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/engine/v1/health").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up)
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, output
