"""`seqengine serve` and `seqengine worker`: the long-running processes.

`serve` runs the WSGI app on granian (engine.adapters.http.server; docs/http.md
has the measurements behind that choice). Granian builds the app in its worker process by calling
`app_from_environment`, which reads the serve settings this process checked and
left in SEQENGINE_SERVE; the in-process scheduler starts there too, and drains
when granian ends the worker (SIGTERM or SIGINT). Both commands expose Prometheus
metrics: `serve` at GET /metrics, a worker on `--metrics-port` (docs/operations.md).
"""

import argparse
import errno
import gc
import json
import os
import signal
import sys
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.app.observer import NO_OBSERVER
from engine.runtime import logs
from engine.runtime.database import Database, newest_instant, opened
from engine.runtime.output import show
from engine.runtime.settings import open_delivery, open_store, open_task_delivery

if TYPE_CHECKING:
    from engine.runtime.scheduler import Scheduler

SETTINGS = "SEQENGINE_SERVE"
YOUNG_GC_THRESHOLD = 10_000  # objects allocated between young collections (Python's: 700)


def settle_gc() -> None:
    """Once the app is built: collect, then freeze what start-up made (modules, the
    app, the store, the OpenAPI document), so no later full collection walks it again;
    and collect the young generation every 10,000 allocations instead of 700, so a
    request's garbage is mostly freed by reference counting before a collection could
    promote it (promotions are what bring full collections on). Measured in
    docs/benchmarks.md (P5)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, middle, old)


def _check(settings: dict[str, Any]) -> None:
    """Fail here, with one clear sentence, rather than inside granian's worker."""
    from engine.wire.parse import parse_instant

    start = parse_instant(settings["start"]) if settings["start"] is not None else None
    with opened(settings["db"]) as store:  # creates or migrates the schema
        open_delivery(settings["delivery"], store, settings["webhook_secret"])
        open_task_delivery(settings["task_delivery"], settings["webhook_secret"])
        if settings["clock"] == "simulated" and start is not None:
            _refuse_rewind(start, newest_instant(store), settings["db"])


def _refuse_rewind(start: datetime, newest: datetime | None, url: str) -> None:
    if newest is not None and start < newest:
        from engine.wire.render import format_instant

        raise ValueError(
            f"--start {format_instant(start)} is before {format_instant(newest)}, the newest "
            f"instant recorded in {Database.locate(url).describe()}: a simulated clock must not "
            "run behind its data (new enrollments would predate their sequences), so use "
            "a later --start or a separate --db file"
        )


def serve(args: argparse.Namespace) -> int:
    from engine.adapters.http.app import public_base
    from engine.adapters.http.server import (
        MAX_BLOCKING_THREADS,
        MAX_REQUEST_TIMEOUT,
        check_port_free,
    )
    from engine.adapters.http.server import serve as serve_wsgi

    public_url = public_base(args.public_url or f"http://{_url_host(args.host)}:{args.port}")
    if not 0 < args.request_timeout <= MAX_REQUEST_TIMEOUT:
        raise ValueError(f"--request-timeout must be above 0 and at most "
                         f"{MAX_REQUEST_TIMEOUT:g} seconds")
    if not 1 <= args.blocking_threads <= MAX_BLOCKING_THREADS:
        raise ValueError(f"--blocking-threads must be from 1 to {MAX_BLOCKING_THREADS}")
    settings = {
        "db": args.db,
        "clock": args.clock,
        "start": args.start,
        "scheduler": not args.no_scheduler,
        "delivery": args.delivery,
        "task_delivery": args.task_delivery,
        "webhook_secret": args.webhook_secret,
        "rate_limit": args.rate_limit,
        "rate_burst": args.rate_burst,
        "metrics": not args.no_metrics,
        "public_url": public_url,
        "request_timeout": args.request_timeout,
        "log_level": args.log_level,
        "log_format": args.log_format,
    }
    if args.rate_limit < 0 or args.rate_burst < 1:
        raise ValueError("--rate-limit must be 0 (off) or more, --rate-burst at least 1")
    if args.start is not None and args.clock != "simulated":
        raise ValueError("--start goes with --clock simulated")
    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    if args.workers > 1 and (args.db == "memory" or args.clock == "simulated"):
        raise ValueError("--workers above 1 needs a shared database (a SQLite file or "
                         "PostgreSQL) and the system clock: each process has its own memory "
                         "and its own simulated clock")
    logs.configure(args.log_level, args.log_format)
    _check(settings)
    try:
        check_port_free(args.host, args.port)
    except OSError as error:
        reason = "it is already in use" if error.errno == errno.EADDRINUSE else error.strerror
        print(f"seqengine: cannot listen on {args.host}:{args.port}: {reason} "
              "(another server?); pick another --port.", file=sys.stderr, flush=True)
        return 1
    os.environ[SETTINGS] = json.dumps(settings)
    database = Database.locate(args.db).describe()
    url = f"http://{args.host}:{args.port}"
    processes = f"{args.workers} worker process{'es' if args.workers > 1 else ''}"
    show(args, {"database": database, "url": url, "public_url": public_url, "clock": args.clock,
                "workers": args.workers},
         f"seqengine: serving {database} on {url} ({args.clock} clock, {processes}; "
         f"links as {public_url}; API docs at {url}/docs)")
    serve_wsgi("engine.runtime.server:app_from_environment", host=args.host, port=args.port,
               workers=args.workers, blocking_threads=args.blocking_threads,
               request_timeout=args.request_timeout,
               log_level=args.log_level)
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def app_from_environment() -> Any:
    """The app granian serves, built from the settings `serve` checked."""
    from engine.adapters.clocks import SimulatedClock, SystemClock
    from engine.adapters.http import EngineGuard, RateLimit, TokenAuth, create_app
    from engine.app.ports import Clock
    from engine.runtime.bootstrap import build
    from engine.runtime.scheduler import Scheduler
    from engine.wire.parse import parse_instant

    settings = json.loads(os.environ[SETTINGS])
    logs.configure(settings["log_level"], settings["log_format"])
    store = open_store(settings["db"])
    system = SystemClock()
    clock: Clock = system
    if settings["clock"] == "simulated":
        clock = SimulatedClock(
            parse_instant(settings["start"]) if settings["start"] else system.now()
        )
    wake = threading.Event()
    metrics = None
    if settings["metrics"]:
        from engine.adapters.metrics import Metrics

        metrics = Metrics(store, clock)
    engine = build(
        store,
        clock,
        open_delivery(settings["delivery"], store, settings["webhook_secret"]),
        on_commit=wake.set,
        tasks=open_task_delivery(settings["task_delivery"], settings["webhook_secret"]),
        observer=metrics.observer if metrics is not None else NO_OBSERVER,
    )
    guard = EngineGuard.for_store(store)
    limit = settings["rate_limit"]
    app = create_app(
        engine,
        auth=TokenAuth(store),
        rate_limit=RateLimit(limit, 3600.0, settings["rate_burst"]) if limit else None,
        clock_mode=settings["clock"],
        guard=guard,
        metrics=metrics,
        public_url=settings["public_url"],
        request_timeout=settings["request_timeout"],
        access_log=True,
    )
    if settings["clock"] == "system" and settings["scheduler"]:
        scheduler = Scheduler(engine, wake=wake)  # no HTTP guard: nothing is held across a send
        scheduler.start()
        drain_at_exit(scheduler)
    settle_gc()
    return app


def drain_at_exit(scheduler: "Scheduler") -> None:
    """Drain the scheduler when this granian worker process ends.

    On SIGTERM or SIGINT granian's own handlers stop the server: the worker's serve
    loop returns, and multiprocessing then runs its exit finalizers (a forked worker
    leaves by os._exit, so atexit would never run). This finalizer stops the
    scheduler there: no new claims, claims not yet sent handed back (due again at
    once), sends under way finished and recorded. granian waits for the worker to
    end, so `serve` exits once the drain is done, within the lease."""
    from multiprocessing.util import Finalize

    Finalize(None, scheduler.stop, exitpriority=10)


def work(args: argparse.Namespace) -> int:
    """A scheduler-only process: run due work until SIGINT or SIGTERM, then drain."""
    from datetime import timedelta

    from engine.adapters.clocks import SystemClock
    from engine.app.policy import ExecutionPolicy
    from engine.runtime.bootstrap import build
    from engine.runtime.scheduler import Scheduler, failpoint_from_environment

    if args.concurrency < 1 or args.lease_seconds <= 0 or (args.poll_seconds or 1) <= 0:
        raise ValueError("--concurrency, --lease-seconds and --poll-seconds must be positive")
    if args.metrics_port is not None and not 0 < args.metrics_port < 65536:
        raise ValueError("--metrics-port must be from 1 to 65535")
    logs.configure(args.log_level, args.log_format)
    with opened(args.db) as checked:  # bad settings fail here, leaving no new file behind
        open_delivery(args.delivery, checked, args.webhook_secret)
        open_task_delivery(args.task_delivery, args.webhook_secret)
    store = open_store(args.db)
    policy = ExecutionPolicy(lease=timedelta(seconds=args.lease_seconds))
    wake = threading.Event()
    clock = SystemClock()
    metrics = None
    # in multiprocess mode the counts go to the shared folder even without a port of
    # its own: whichever process is scraped reports them
    if args.metrics_port is not None or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from engine.adapters.metrics import Metrics

        metrics = Metrics(store, clock)
    engine = build(store, clock, open_delivery(args.delivery, store, args.webhook_secret),
                   policy, on_commit=wake.set,
                   tasks=open_task_delivery(args.task_delivery, args.webhook_secret),
                   observer=metrics.observer if metrics is not None else NO_OBSERVER)
    scheduler = Scheduler(engine, max_idle=args.poll_seconds, concurrency=args.concurrency,
                          wake=wake, failpoint=failpoint_from_environment())
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stop_metrics = None
    if metrics is not None and args.metrics_port is not None:
        stop_metrics = metrics.serve(args.metrics_port, args.metrics_host)
    database = Database.locate(args.db).describe()
    show(args, {"database": database, "concurrency": args.concurrency},
         f"seqengine: worker on {database} ({args.concurrency} threads)")
    scheduler.start()
    stopped.wait()
    scheduler.stop()
    if stop_metrics is not None:
        stop_metrics()
    getattr(store, "close", lambda: None)()
    return 0
