"""The server-side commands of `seqengine`: serve, worker, db, accounts, users, tokens, demo."""

import argparse
import json
from collections.abc import Callable
from typing import Any

from engine.runtime.cli import CliError, emit

Add = Callable[[Any, str, str], argparse.ArgumentParser]


def register(
    commands: Any, add: Add, add_calendar_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add the server-side subcommands to the `seqengine` parser; `add(group, name, help)`
    makes a subcommand that also takes --db and --json."""
    serve = add(commands, "serve", "the HTTP API (and the scheduler, by default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--public-url", metavar="URL",
                       help="base URL of the links in responses, as clients reach the server "
                            "(default http://HOST:PORT); never taken from the Host header")
    serve.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="time a client has to send its headers, and its body, before it "
                            "is answered 408 or cut off (default 10, at most 60)")
    serve.add_argument("--clock", choices=["system", "simulated"], default="system")
    serve.add_argument("--start", help="simulated clock start (ISO 8601; default: now)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run due work here")
    serve.add_argument("--rate-limit", type=int, default=36_000, metavar="PER_HOUR",
                       help="requests per token per hour (default 36000; 0 turns it off)")
    serve.add_argument("--rate-burst", type=int, default=36_000, metavar="N",
                       help="requests a token's bucket holds (default 36000: the hour's worth)")
    _delivery_options(serve)
    serve.set_defaults(run=_serve)

    worker = add(commands, "worker", "a scheduler-only process")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument("--lease-seconds", type=float, default=300.0)
    worker.add_argument("--poll-seconds", type=float, default=1.0)
    _delivery_options(worker)
    worker.set_defaults(run=_worker)

    db = add(commands, "db", "database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    add(db_commands, "upgrade", "create or migrate the schema").set_defaults(run=_db_upgrade)

    accounts = add(commands, "accounts", "tenants")
    account_commands = accounts.add_subparsers(
        dest="accounts_command", required=True, metavar="ACTION"
    )
    create_account = add(account_commands, "create", "create an account")
    create_account.add_argument("--name", required=True)
    create_account.add_argument("--no-reach", action="store_true", help="without the Reach product")
    create_account.set_defaults(run=_create_account)

    users = add(commands, "users", "users (actors) and their calendars")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create_user = add(user_commands, "create", "create a user")
    create_user.add_argument("--account", type=int, required=True)
    create_user.add_argument("--id", type=int, default=0)
    create_user.add_argument("--name", default="")
    create_user.add_argument("--daily-email-limit", type=int, default=300)
    add_calendar_options(create_user)
    create_user.set_defaults(run=_create_user)

    tokens = add(commands, "tokens", "API bearer tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True, metavar="ACTION")
    create_token = add(token_commands, "create", "a new token (shown once)")
    create_token.add_argument("--user", type=int, required=True)
    create_token.add_argument(
        "--scopes", default="read,write",
        help="comma-separated: read, write, admin (admin moves the simulated clock)")
    create_token.set_defaults(run=_create_token)
    revoke = add(token_commands, "revoke", "revoke a token")
    revoke.add_argument("token")
    revoke.set_defaults(run=_revoke_token)

    demo = add(commands, "demo", "demo account, user, token and sequences")
    demo.set_defaults(run=_demo)


def _delivery_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--delivery", default="outbox", help="outbox | webhook:URL")
    p.add_argument("--webhook-secret", help="HMAC secret (or SEQENGINE_WEBHOOK_SECRET)")


def _engine(args: argparse.Namespace, clock: Any = None) -> Any:
    from engine.adapters.clocks import SystemClock
    from engine.runtime.bootstrap import build
    from engine.runtime.settings import open_delivery, open_store

    store = open_store(args.db)
    delivery = open_delivery(
        getattr(args, "delivery", "outbox"), store, getattr(args, "webhook_secret", None)
    )
    return build(store, clock or SystemClock(), delivery)


def _db_upgrade(args: argparse.Namespace) -> int:
    from engine.runtime.settings import open_store

    store = open_store(args.db)
    _close(store)
    _print(args, {"database": args.db, "schema": "up to date"})
    return 0


def _create_account(args: argparse.Namespace) -> int:
    engine = _engine(args)
    account = engine.create_account(args.name, reach_enabled=not args.no_reach)
    _print(args, {"id": account.id, "name": account.name, "reach_enabled": account.reach_enabled})
    _close(engine.store)
    return 0


def _create_user(args: argparse.Namespace) -> int:
    engine = _engine(args)
    user = engine.create_user(
        args.account,
        user_id=args.id,
        name=args.name,
        time_zone=args.time_zone,
        holidays=args.holidays,
        weekmask=args.weekmask,
        send_window=args.send_window,
        daily_email_limit=args.daily_email_limit,
    )
    _print(
        args,
        {
            "id": user.id,
            "account_id": user.account_id,
            "time_zone": user.time_zone,
            "holidays": user.holidays,
            "send_window": user.send_window,
            "daily_email_limit": user.daily_email_limit,
        },
    )
    _close(engine.store)
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from engine.adapters.http.tokens import SCOPES, issue_token

    scopes = frozenset(s.strip() for s in args.scopes.split(",") if s.strip())
    if not scopes or not scopes <= SCOPES:
        raise CliError("--scopes takes a comma-separated list of read, write and admin")
    engine = _engine(args)
    engine.get_user(args.user)
    token = issue_token(engine.store, args.user, scopes)
    _print(args, {"token": token, "user_id": args.user, "scopes": sorted(scopes)})
    _close(engine.store)
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    from engine.adapters.http.tokens import revoke_token

    engine = _engine(args)
    if not revoke_token(engine.store, args.token):
        raise CliError("no such token")
    _print(args, {"revoked": True})
    _close(engine.store)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from engine.runtime.demo import create_demo

    engine = _engine(args)
    made = create_demo(engine)
    _close(engine.store)
    if args.json:
        emit(made)
    else:
        print(made["howto"])
    return 0


def _serve(args: argparse.Namespace) -> int:
    from engine.runtime.server import serve

    return serve(args)


def _worker(args: argparse.Namespace) -> int:
    from engine.runtime.server import work

    return work(args)


def _print(args: argparse.Namespace, document: dict[str, Any]) -> None:
    if args.json:
        emit(document)
    else:
        print(json.dumps(document))


def _close(store: Any) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        close()
