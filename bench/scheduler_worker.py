"""One worker process of the P6 burn-down (bench_scheduler.py starts several).

`python -m bench.scheduler_worker engine URL CONCURRENCY` runs the engine's own
Scheduler (the loop `seqengine worker` runs) on the outbox delivery (`engine-timed
... FILE` also writes when each enrollment's send returned, for the latency);
`python -m bench.scheduler_worker pgqueuer URL BATCH` runs a PgQueuer
QueueManager with a no-op entrypoint. Both print `ready` once connected, start
on a `go` line on stdin and stop (draining) on the next line or end of input,
so the parent times the drain alone, without process start-up.
"""

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any


class TimedDelivery:
    """The outbox delivery, noting when each enrollment's send returned (wall clock).
    Like the outbox, it is made inside the record's transaction (`send_within`)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.sent = inner, dict[int, float]()

    def send(self, request: Any, now: Any) -> Any:
        result = self.inner.send(request, now)
        self.sent.setdefault(request.enrollment_id, time.time())
        return result

    def send_within(self, uow: Any, request: Any, now: Any) -> Any:
        result = self.inner.send_within(uow, request, now)
        self.sent.setdefault(request.enrollment_id, time.time())
        return result


def engine_worker(url: str, concurrency: int, record: str | None) -> None:
    from engine.adapters.clocks import SystemClock
    from engine.adapters.outbox import OutboxDelivery
    from engine.runtime.bootstrap import build
    from engine.runtime.scheduler import Scheduler
    from engine.runtime.settings import open_store

    store = open_store(url)
    wake = threading.Event()
    delivery = TimedDelivery(OutboxDelivery(store))
    engine = build(store, SystemClock(), delivery, on_commit=wake.set)
    # waking at least every second: the poll interval the latency goal is stated for
    scheduler = Scheduler(engine, concurrency=concurrency, max_idle=1.0, wake=wake)
    print("ready", flush=True)
    sys.stdin.readline()
    scheduler.start()
    sys.stdin.readline()
    scheduler.stop()
    store.close()
    if record is not None:
        Path(record).write_text(json.dumps(delivery.sent))


async def pgqueuer_worker(url: str, batch_size: int) -> None:
    import psycopg
    from pgqueuer import Queries, QueueManager
    from pgqueuer.models import Job

    connection = await psycopg.AsyncConnection.connect(url, autocommit=True)
    manager = QueueManager(Queries.from_psycopg_connection(connection))

    @manager.entrypoint("noop")
    async def noop(job: Job) -> None:
        return None

    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    runner = asyncio.create_task(manager.run(batch_size=batch_size))
    await loop.run_in_executor(None, sys.stdin.readline)
    manager.shutdown.set()
    await runner
    await connection.close()


def main(argv: list[str]) -> int:
    kind, url, size = argv[0], argv[1], int(argv[2])
    if kind in ("engine", "engine-timed"):
        engine_worker(url, size, argv[3] if kind == "engine-timed" else None)
    else:
        asyncio.run(pgqueuer_worker(url, size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
