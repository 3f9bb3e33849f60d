"""`seqengine serve` and `seqengine worker`: the long-running processes.

`serve` runs the WSGI app on granian (engine.adapters.http.server; docs/http.md
has the measurements behind that choice). Granian builds the app in its worker process by calling
`app_from_environment`, which reads the serve settings this process checked and
left in SEQENGINE_SERVE; the in-process scheduler starts there too, beside the
app it shares a write guard with.
"""

import argparse
import errno
import json
import os
import signal
import sys
import threading
from typing import Any

from engine.runtime.settings import open_delivery, open_store

SETTINGS = "SEQENGINE_SERVE"


def _check(settings: dict[str, Any]) -> None:
    """Fail here, with one clear sentence, rather than inside granian's worker."""
    from engine.wire.parse import parse_instant

    if settings["start"] is not None:
        parse_instant(settings["start"])
    store = open_store(settings["db"])  # creates or migrates the schema
    open_delivery(settings["delivery"], store, settings["webhook_secret"])
    getattr(store, "close", lambda: None)()


def serve(args: argparse.Namespace) -> int:
    from engine.adapters.http.app import public_base
    from engine.adapters.http.server import MAX_REQUEST_TIMEOUT, check_port_free
    from engine.adapters.http.server import serve as serve_wsgi

    public_url = public_base(args.public_url or f"http://{_url_host(args.host)}:{args.port}")
    if not 0 < args.request_timeout <= MAX_REQUEST_TIMEOUT:
        raise ValueError(f"--request-timeout must be above 0 and at most "
                         f"{MAX_REQUEST_TIMEOUT:g} seconds")
    settings = {
        "db": args.db,
        "clock": args.clock,
        "start": args.start,
        "scheduler": not args.no_scheduler,
        "delivery": args.delivery,
        "webhook_secret": args.webhook_secret,
        "rate_limit": args.rate_limit,
        "rate_burst": args.rate_burst,
        "public_url": public_url,
        "request_timeout": args.request_timeout,
    }
    if args.rate_limit < 0 or args.rate_burst < 1:
        raise ValueError("--rate-limit must be 0 (off) or more, --rate-burst at least 1")
    if args.start is not None and args.clock != "simulated":
        raise ValueError("--start goes with --clock simulated")
    _check(settings)
    try:
        check_port_free(args.host, args.port)
    except OSError as error:
        reason = "it is already in use" if error.errno == errno.EADDRINUSE else error.strerror
        print(f"seqengine: cannot listen on {args.host}:{args.port}: {reason} "
              "(another server?); pick another --port.", file=sys.stderr, flush=True)
        return 1
    os.environ[SETTINGS] = json.dumps(settings)
    print(
        f"seqengine: serving {args.db} on http://{args.host}:{args.port} "
        f"({args.clock} clock; links as {public_url}; API docs at /docs)",
        file=sys.stderr,
        flush=True,
    )
    serve_wsgi("engine.runtime.server:app_from_environment", host=args.host, port=args.port,
               request_timeout=args.request_timeout)
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
    store = open_store(settings["db"])
    system = SystemClock()
    clock: Clock = system
    if settings["clock"] == "simulated":
        clock = SimulatedClock(
            parse_instant(settings["start"]) if settings["start"] else system.now()
        )
    engine = build(
        store, clock, open_delivery(settings["delivery"], store, settings["webhook_secret"])
    )
    guard = EngineGuard.for_store(store)
    limit = settings["rate_limit"]
    app = create_app(
        engine,
        auth=TokenAuth(store),
        rate_limit=RateLimit(limit, 3600.0, settings["rate_burst"]) if limit else None,
        clock_mode=settings["clock"],
        guard=guard,
        public_url=settings["public_url"],
        request_timeout=settings["request_timeout"],
    )
    if settings["clock"] == "system" and settings["scheduler"]:
        Scheduler(engine, exclusive=guard.write).start()
    return app


def work(args: argparse.Namespace) -> int:
    """A scheduler-only process: run due work until SIGINT or SIGTERM."""
    from dataclasses import replace
    from datetime import timedelta

    from engine.adapters.clocks import SystemClock
    from engine.runtime.bootstrap import build
    from engine.runtime.scheduler import Scheduler

    if args.concurrency < 1 or args.lease_seconds <= 0 or args.poll_seconds <= 0:
        raise ValueError("--concurrency, --lease-seconds and --poll-seconds must be positive")
    store = open_store(args.db)
    engine = build(store, SystemClock(), open_delivery(args.delivery, store, args.webhook_secret))
    engine.policy = replace(engine.policy, lease=timedelta(seconds=args.lease_seconds))
    scheduler = Scheduler(engine, poll_interval=args.poll_seconds, concurrency=args.concurrency)
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
