"""`seqengine worker`, with a test failpoint that pauses the process instead of killing it.

SEQENGINE_TEST_PAUSE=`point#n:action`, e.g. `after_claim#1:stop`: the n-th time the
scheduler reaches `point` (one of the SEQENGINE_FAILPOINT names), the worker
- `stop`: stops itself with SIGSTOP (the test resumes it with SIGCONT): a worker
  frozen between claiming and sending, as a long GC pause or a VM freeze would;
- `term`: sends itself SIGTERM and goes on only once the drain has begun: a
  SIGTERM that lands while claims are taken but not yet sent.
Everything else is the real command (engine.runtime.cli.main).
"""

import os
import signal
import sys

from engine.runtime import scheduler
from engine.runtime.cli import main

running: list[scheduler.Scheduler] = []


def pausing_failpoint() -> scheduler.Failpoint:
    point, _, rest = os.environ["SEQENGINE_TEST_PAUSE"].partition("#")
    nth, _, action = rest.partition(":")
    reached = 0

    def failpoint(name: str) -> None:
        nonlocal reached
        if name != point:
            return
        reached += 1
        if reached != int(nth):
            return
        if action == "stop":
            os.kill(os.getpid(), signal.SIGSTOP)
        elif action == "term":
            os.kill(os.getpid(), signal.SIGTERM)
            running[0].stopping.wait(30)  # the main thread's handler has begun the drain
        else:
            raise SystemExit(f"unknown pause action {action!r}")

    return failpoint


def remember(start: object) -> object:
    def started(self: scheduler.Scheduler) -> None:
        running.append(self)
        start(self)  # type: ignore[operator]

    return started


if __name__ == "__main__":
    scheduler.failpoint_from_environment = pausing_failpoint
    scheduler.Scheduler.start = remember(scheduler.Scheduler.start)  # type: ignore[method-assign]
    sys.exit(main(sys.argv[1:]))
