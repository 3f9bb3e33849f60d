"""The scheduler loop: run due work, and wait a poll interval when there was none.

Runs in a `seqengine worker` process or in a thread of `seqengine serve`. The
wait uses a threading.Event, so stopping is immediate; in simulated mode no
loop runs at all (time only moves inside an advance).
"""

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from engine.app.service import SequenceEngine
from engine.errors import EngineError

log = logging.getLogger("seqengine.scheduler")


class Scheduler:
    def __init__(
        self,
        engine: SequenceEngine,
        poll_interval: float = 1.0,
        concurrency: int = 1,
        exclusive: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> None:
        """`exclusive` is what a pass over due work must hold when other threads of the
        process share the engine (the HTTP server's write guard)."""
        self.engine = engine
        self.exclusive = exclusive or nullcontext
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def run_once(self) -> int:
        try:
            with self.exclusive():
                return self.engine.run_due()
        except EngineError as error:  # a storage hiccup: log it and try again next poll
            log.warning("due work failed: %s", error.message)
            return 0
        except Exception:  # a bug must not stop the loop: claims are retried after their lease
            log.exception("due work failed unexpectedly")
            return 0

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if self.run_once() == 0:
                self.stopping.wait(self.poll_interval)

    def start(self) -> None:
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"scheduler-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()
