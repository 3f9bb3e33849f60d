"""`seqengine serve` and `seqengine worker`: the long-running processes.

`serve` runs the WSGI app on granian (engine.adapters.http.server; docs/http.md
has the measurements behind that choice). Granian builds the app in its worker process by calling
`app_from_environment`, which reads the serve settings this process checked and
left in SEQENGINE_SERVE; the in-process scheduler starts there too, beside the
app it shares a write guard with.
"""

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from engine.runtime.settings import open_delivery, open_store, open_task_delivery

SETTINGS = "SEQENGINE_SERVE"


def _check(settings: dict[str, Any]) -> None:
    """Fail here, with one clear sentence, rather than inside granian's worker."""
    from engine.wire.parse import parse_instant

    if settings["start"] is not None:
        parse_instant(settings["start"])
    store = open_store(settings["db"])  # creates or migrates the schema
    open_delivery(settings["delivery"], store, settings["webhook_secret"])
    open_task_delivery(settings["task_delivery"], settings["webhook_secret"])
    getattr(store, "close", lambda: None)()


def serve(args: argparse.Namespace) -> int:
    from engine.adapters.http.server import serve as serve_wsgi

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
    }
    if args.rate_limit < 0 or args.rate_burst < 1:
        raise ValueError("--rate-limit must be 0 (off) or more, --rate-burst at least 1")
    if args.start is not None and args.clock != "simulated":
        raise ValueError("--start goes with --clock simulated")
    _check(settings)
    os.environ[SETTINGS] = json.dumps(settings)
    print(
        f"seqengine: serving {args.db} on http://{args.host}:{args.port} "
        f"({args.clock} clock; API docs at /docs)",
        file=sys.stderr,
        flush=True,
    )
    serve_wsgi("engine.runtime.server:app_from_environment", host=args.host, port=args.port)
    return 0


def app_from_environment() -> Any:
    """The app granian serves, built from the settings `serve` checked."""
    from engine.adapters.clocks import SimulatedClock, SystemClock
    from engine.adapters.http import EngineGuard, RateLimit, TokenAuth, create_app
    from engine.app.ports import Clock
    from engine.runtime.bootstrap import build
    from engine.runtime.scheduler import Scheduler
    from engine.wire.parse import parse_instant

    settings = json.loads(os.environ[SETTINGS])
    store = open_store(settings["db"])
    system = SystemClock()
    clock: Clock = system
    if settings["clock"] == "simulated":
        clock = SimulatedClock(
            parse_instant(settings["start"]) if settings["start"] else system.now()
        )
    wake = threading.Event()
    engine = build(
        store,
        clock,
        open_delivery(settings["delivery"], store, settings["webhook_secret"]),
        on_commit=wake.set,
        tasks=open_task_delivery(settings["task_delivery"], settings["webhook_secret"]),
    )
    guard = EngineGuard.for_store(store)
    limit = settings["rate_limit"]
    app = create_app(
        engine,
        auth=TokenAuth(store),
        rate_limit=RateLimit(limit, 3600.0, settings["rate_burst"]) if limit else None,
        clock_mode=settings["clock"],
        guard=guard,
    )
    if settings["clock"] == "system" and settings["scheduler"]:
        Scheduler(engine, wake=wake).start()  # no HTTP guard: it holds nothing across a send
    return app


def work(args: argparse.Namespace) -> int:
    """A scheduler-only process: run due work until SIGINT or SIGTERM, then drain."""
    from datetime import timedelta

    from engine.adapters.clocks import SystemClock
    from engine.app.policy import ExecutionPolicy
    from engine.runtime.bootstrap import build
    from engine.runtime.scheduler import Scheduler, failpoint_from_environment

    if args.concurrency < 1 or args.lease_seconds <= 0 or args.poll_seconds <= 0:
        raise ValueError("--concurrency, --lease-seconds and --poll-seconds must be positive")
    store = open_store(args.db)
    policy = ExecutionPolicy(lease=timedelta(seconds=args.lease_seconds))
    wake = threading.Event()
    engine = build(store, SystemClock(), open_delivery(args.delivery, store, args.webhook_secret),
                   policy, on_commit=wake.set,
                   tasks=open_task_delivery(args.task_delivery, args.webhook_secret))
    scheduler = Scheduler(engine, max_idle=args.poll_seconds, concurrency=args.concurrency,
                          wake=wake, failpoint=failpoint_from_environment())
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    print(
        f"seqengine: worker on {args.db} ({args.concurrency} threads)", file=sys.stderr, flush=True
    )
    scheduler.start()
    stopped.wait()
    scheduler.stop()
    getattr(store, "close", lambda: None)()
    return 0
