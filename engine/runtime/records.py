"""The commands on records, without HTTP: accounts, users, tokens, sequences, enrollments.

Each prints a short human summary, or JSON with --json (Sell's wire format for
sequences and enrollments). Commands that only read need an existing database;
one that fails leaves no new database file (engine.runtime.database).
"""

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from engine.runtime.output import show, table

Add = Callable[..., argparse.ArgumentParser]
PAGE_SIZE = 100


def register(commands: Any, add: Add) -> None:
    from engine.domain.enums import EnrollmentState
    from engine.runtime.cli import add_calendar_options

    accounts = add(commands, "accounts", "accounts (tenants)")
    account_commands = accounts.add_subparsers(
        dest="accounts_command", required=True, metavar="ACTION"
    )
    create_account = add(account_commands, "create", "create an account")
    create_account.add_argument("--name", required=True, help="the account's name")
    create_account.add_argument(
        "--no-reach", action="store_true",
        help="without Reach, Sell's sales-engagement add-on: sequences and enrollments "
             "answer 403 for such an account",
    )
    create_account.set_defaults(run=_create_account)

    users = add(commands, "users", "users (actors) and their calendars")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create_user = add(user_commands, "create", "create a user")
    create_user.add_argument("--account", type=int, required=True, metavar="ID",
                             help="the account the user belongs to")
    create_user.add_argument("--id", type=int, default=0,
                             help="choose the user's id (default: the next free one)")
    create_user.add_argument("--name", default="", help="the user's name")
    create_user.add_argument("--daily-email-limit", type=int, default=300, metavar="N",
                             help="emails the user may send per local day (default 300)")
    add_calendar_options(create_user)
    create_user.set_defaults(run=_create_user)

    tokens = add(commands, "tokens", "API bearer tokens")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True, metavar="ACTION")
    create_token = add(token_commands, "create", "a new token (shown once)")
    create_token.add_argument("--user", type=int, required=True, metavar="ID",
                              help="the user the token acts as (in that user's account)")
    create_token.add_argument("--scopes", default="read,write", metavar="read,write[,admin]",
                              help="what the token may do: read (GET), write (other methods), "
                                   "admin (move a simulated clock); default read,write")
    create_token.set_defaults(run=_create_token)
    revoke = add(token_commands, "revoke", "revoke a token")
    revoke.add_argument("token", help="the 64-hex-digit token")
    revoke.set_defaults(run=_revoke_token)

    sequences = add(commands, "sequences", "sequences, without HTTP")
    sequence_commands = sequences.add_subparsers(
        dest="sequences_command", required=True, metavar="ACTION"
    )
    create_sequence = add(sequence_commands, "create", "create a sequence from a JSON file")
    create_sequence.add_argument("--user", type=int, required=True, metavar="ID",
                                 help="its creator (the sequence belongs to the user's account)")
    create_sequence.add_argument("sequence", metavar="SEQUENCE.json",
                                 help="a sequence as POST /v2/sequences takes it (bare or in "
                                      "'data')")
    create_sequence.set_defaults(run=_create_sequence)
    list_sequences = add(sequence_commands, "list", "an account's sequences")
    list_sequences.add_argument("--account", type=int, required=True, metavar="ID",
                                help="whose sequences")
    list_sequences.set_defaults(run=_list_sequences)

    enrollments = add(commands, "enrollments", "enrollments, without HTTP")
    enrollment_commands = enrollments.add_subparsers(
        dest="enrollments_command", required=True, metavar="ACTION"
    )
    list_enrollments = add(enrollment_commands, "list", "what is running, as a table")
    list_enrollments.add_argument("--account", type=int, required=True, metavar="ID",
                                  help="whose enrollments")
    list_enrollments.add_argument("--state", choices=[s.value for s in EnrollmentState],
                                  help="only enrollments in this state")
    list_enrollments.set_defaults(run=_list_enrollments)


@contextmanager
def _engine(args: argparse.Namespace, *, must_exist: bool = False) -> Iterator[Any]:
    from engine.adapters.clocks import SystemClock
    from engine.runtime.bootstrap import build
    from engine.runtime.database import opened

    with opened(args.db, must_exist=must_exist) as store:
        yield build(store, SystemClock())


def _create_account(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        account = engine.create_account(args.name, reach_enabled=not args.no_reach)
    reach = "with Reach" if account.reach_enabled else "without Reach"
    show(args, {"id": account.id, "name": account.name, "reach_enabled": account.reach_enabled},
         f"Account {account.id} ({account.name}), {reach}.")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        user = engine.create_user(
            args.account, user_id=args.id, name=args.name, time_zone=args.time_zone,
            holidays=args.holidays, weekmask=args.weekmask, send_window=args.send_window,
            daily_email_limit=args.daily_email_limit,
        )
    document = {
        "id": user.id,
        "account_id": user.account_id,
        "name": user.name,
        "time_zone": user.time_zone,
        "holidays": user.holidays,
        "weekmask": user.weekmask,
        "send_window": user.send_window,
        "daily_email_limit": user.daily_email_limit,
    }
    show(args, document,
         f"User {user.id} in account {user.account_id}: {user.time_zone}, holidays "
         f"{user.holidays or 'none'}, sends {user.send_window or 'at any hour'}, at most "
         f"{user.daily_email_limit} emails a day.")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    from engine.adapters.http.tokens import SCOPES, issue_token

    scopes = frozenset(s.strip() for s in args.scopes.split(",") if s.strip())
    if not scopes or not scopes <= SCOPES:
        raise ValueError("--scopes takes read, write and admin, comma-separated")
    with _engine(args) as engine:
        user = engine.get_user(args.user)
        token = issue_token(engine.store, user.id, scopes)
    show(args, {"token": token, "user_id": user.id, "account_id": user.account_id,
                "scopes": sorted(scopes)},
         f"A token for user {user.id} in account {user.account_id}, scopes "
         f"{', '.join(sorted(scopes))} (shown once; only its hash is kept):\n{token}")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    from engine.adapters.http.tokens import revoke_token

    with _engine(args, must_exist=True) as engine:
        if not revoke_token(engine.store, args.token):
            raise ValueError("no such token")
    show(args, {"revoked": True}, "Token revoked.")
    return 0


def _create_sequence(args: argparse.Namespace) -> int:
    from engine.runtime.whatif import read_sequence_file
    from engine.wire.parse import parse_sequence
    from engine.wire.render import sequence_data

    found = parse_sequence(read_sequence_file(args.sequence), partial=False)
    with _engine(args) as engine:
        user = engine.get_user(args.user)
        sequence = engine.create_sequence(
            user.account_id, name=found.name or "", steps=found.steps or (), creator_id=user.id,
            unsubscribe_settings=found.unsubscribe_settings,
        )
    show(args, {"data": sequence_data(sequence), "meta": {"type": "sequence"}},
         f"Sequence {sequence.id} ({sequence.name}) in account {sequence.account_id}, "
         f"{len(sequence.steps)} steps.")
    return 0


def _list_sequences(args: argparse.Namespace) -> int:
    from engine.wire.render import format_instant, sequence_data

    with _engine(args, must_exist=True) as engine:
        found = _all_pages(lambda page: engine.list_sequences(args.account, page=page))
    rows = [(str(s.id), s.name, str(len(s.steps)), str(s.creator_id),
             format_instant(s.created_at) or "-") for s in found]
    show(args, [sequence_data(s) for s in found],
         table(("id", "name", "steps", "creator", "created"), rows) if rows
         else f"Account {args.account} has no sequences.")
    return 0


def _list_enrollments(args: argparse.Namespace) -> int:
    from engine.app.ports import EnrollmentFilter
    from engine.domain.enums import EnrollmentState
    from engine.wire.render import enrollment_data, format_instant

    where = EnrollmentFilter(state=EnrollmentState(args.state) if args.state else None)
    with _engine(args, must_exist=True) as engine:
        views = _all_pages(lambda page: engine.list_enrollments(args.account, where, page))
    rows = []
    for view in views:
        e = view.enrollment
        step = f"{e.current_step_position + 1}/{len(e.steps)}" if e.steps else "-"
        rows.append((str(e.id), str(e.sequence_id), f"{e.resource_type} {e.resource_id}",
                     str(e.state), step, format_instant(e.due_at) or "-"))
    header = ("id", "sequence", "resource", "state", "step", "next action (UTC)")
    show(args, [enrollment_data(v) for v in views],
         table(header, rows) if rows
         else f"Account {args.account} has no {args.state + ' ' if args.state else ''}enrollments.")
    return 0


def _all_pages(fetch: Callable[[Any], list[Any]]) -> list[Any]:
    from engine.app.ports import Page

    found: list[Any] = []
    for number in range(1, 1_000_000):
        page = fetch(Page(number, PAGE_SIZE))
        found += page
        if len(page) < PAGE_SIZE:
            break
    return found
