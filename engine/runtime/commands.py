"""The server-side commands of `seqengine`: serve, worker, db, demo, and the records
(accounts, users, tokens, sequences, enrollments: engine.runtime.records)."""

import argparse
from collections.abc import Callable
from typing import Any

from engine.runtime.output import show

Add = Callable[..., argparse.ArgumentParser]


def register(commands: Any, add: Add) -> None:
    """Add the server-side subcommands to the `seqengine` parser; `add(group, name, help)`
    makes a subcommand that also takes --db and --json."""
    serve = add(commands, "serve", "the HTTP API (and the scheduler, by default)")
    _address_options(serve, "listen on")
    serve.add_argument("--public-url", metavar="URL",
                       help="base URL of the links in responses, as clients reach the server "
                            "(default http://HOST:PORT); never taken from the Host header")
    serve.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="time a client has to send its headers, and its body, before it "
                            "is answered 408 or cut off (default 10, at most 60)")
    serve.add_argument("--blocking-threads", type=int, default=512, metavar="N",
                       help="most Python threads running requests at once, per worker process "
                            "(default 512: safe for clients on the internet, each stalling "
                            "client holds one; 1 or 2: lowest latency, only behind a proxy "
                            "that buffers whole request bodies; from 1 to 1024)")
    serve.add_argument("--clock", choices=["system", "simulated"], default="system",
                       help="system: real time (default); simulated: time stands still until "
                            "POST /engine/v1/clock moves it (tests, teaching)")
    serve.add_argument("--start", help="simulated clock start (ISO 8601; default: now); "
                                       "never before the newest instant in the database")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run due work here")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="HTTP worker processes (more than 1 needs a shared database: "
                            "a SQLite file or PostgreSQL, and the system clock)")
    serve.add_argument("--rate-limit", type=int, default=36_000, metavar="PER_HOUR",
                       help="requests per token per hour (default 36000; 0 turns it off)")
    serve.add_argument("--rate-burst", type=int, default=36_000, metavar="N",
                       help="requests a token's bucket holds (default 36000: the hour's worth)")
    serve.add_argument("--no-metrics", action="store_true",
                       help="do not serve GET /metrics (Prometheus; public when served)")
    _delivery_options(serve)
    _log_options(serve)
    serve.set_defaults(run=_serve)

    worker = add(commands, "worker", "a scheduler-only process")
    worker.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help="threads running due work (default 1)")
    worker.add_argument("--lease-seconds", type=float, default=300.0, metavar="S",
                        help="how long a claimed send is held before another worker may "
                             "retry it (default 300)")
    worker.add_argument("--poll-seconds", type=float, default=None, metavar="S",
                        help="longest sleep when nothing is due (default 1 on SQLite; 30 on "
                             "PostgreSQL, whose notifications wake the worker sooner)")
    worker.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="serve Prometheus /metrics on this port (default: off)")
    worker.add_argument("--metrics-host", default="127.0.0.1", metavar="HOST",
                        help="address for --metrics-port (default 127.0.0.1)")
    _delivery_options(worker)
    _log_options(worker)
    worker.set_defaults(run=_worker)

    db = add(commands, "db", "the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    add(db_commands, "upgrade", "create or migrate the schema").set_defaults(run=_db_upgrade)

    demo = add(commands, "demo", "create (or reuse) a demo account, user and sequences, "
                                 "and print a new token and how to call the API")
    _address_options(demo, "print commands for a server on")
    demo.add_argument("--start", help="date the demo sequences at this ISO 8601 instant, for a "
                                      "server on a simulated clock starting there")
    demo.set_defaults(run=_demo)

    from engine.runtime import records

    records.register(commands, add)


def _address_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--host", default="127.0.0.1", help=f"{what} this address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help=f"{what} this port (default 8000)")


def _delivery_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--delivery", default="outbox", metavar="outbox|webhook:URL",
                   help="where emails go: recorded in the database's outbox (default), or "
                        "POSTed to a URL of your backend")
    p.add_argument("--task-delivery", default="internal", metavar="internal|webhook:URL",
                   help="where task steps' tasks go: kept by the engine, /v2/tasks (default), "
                        "or POSTed to a URL of your backend, which reports them back as events")
    p.add_argument("--webhook-secret", metavar="S", help="HMAC secret that signs webhook calls")


def _log_options(p: argparse.ArgumentParser) -> None:
    from engine.runtime.logs import FORMATS, LEVELS

    p.add_argument("--log-level", choices=LEVELS, default="info",
                   help="log to stderr at this level and above (default info)")
    p.add_argument("--log-format", choices=FORMATS, default="text",
                   help="text lines (default) or one JSON object per line")


def _db_upgrade(args: argparse.Namespace) -> int:
    from engine.runtime.database import upgrade

    said = upgrade(args.db)
    show(args, {"database": args.db, "result": said}, said[:1].upper() + said[1:] + ".")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from engine.adapters.clocks import SimulatedClock, SystemClock
    from engine.runtime.bootstrap import build
    from engine.runtime.database import Database, opened
    from engine.runtime.demo import ensure_demo, howto
    from engine.wire.parse import parse_instant

    clock = SimulatedClock(parse_instant(args.start)) if args.start else SystemClock()
    base_url = f"http://{args.host}:{args.port}"
    with opened(args.db) as store:
        demo = ensure_demo(build(store, clock))
    ids, database = demo.ids, Database.locate(args.db).describe()
    document = {
        "account_id": ids.account_id,
        "user_id": ids.user_id,
        "sequence_ids": list(ids.sequence_ids),
        "reused": demo.reused,
        "token": demo.token,
        "base_url": base_url,
        "database": database,
    }
    show(args, document, howto(demo, base_url, database))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from engine.runtime.server import serve

    return serve(args)


def _worker(args: argparse.Namespace) -> int:
    from engine.runtime.server import work

    return work(args)
