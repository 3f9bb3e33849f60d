"""The scheduler loop survives a failing pass and stops at once when told to."""

import threading
from datetime import UTC, datetime

import pytest

from engine import in_memory
from engine.errors import EngineError
from engine.runtime.scheduler import Scheduler


class Failing:
    """An executor whose claims always fail."""

    def __init__(self, error: Exception) -> None:
        self.error, self.calls = error, 0
        self.done = threading.Event()
        self.worker = "failing"

    def claim(self, limit: int, *, send_in_store: bool = False) -> None:
        self.calls += 1
        if self.calls >= 3:
            self.done.set()
        raise self.error

    run_due = claim


@pytest.mark.parametrize("error", [EngineError("storage down"), RuntimeError("a bug")])
def test_a_failing_pass_is_logged_and_the_loop_goes_on(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    engine = in_memory(start=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    engine.next_due_at = lambda: engine.clock.now()  # type: ignore[method-assign]
    scheduler = Scheduler(engine, max_idle=0.001)
    failing = scheduler.executor = Failing(error)  # type: ignore[assignment]
    scheduler.start()
    assert failing.done.wait(timeout=10)
    scheduler.stop()
    assert failing.calls >= 3
    assert "due work failed" in caplog.text


def test_run_once_runs_what_is_due() -> None:
    engine = in_memory(start=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert Scheduler(engine).run_once() == 0
