"""The `seqengine` command line (spec/cli.md).

Imports stay inside the commands so that `seqengine --help` starts fast.
Every error is one clear sentence on stderr and a non-zero exit, never a traceback.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_DB = "sqlite:///seqengine.db"

Command = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user mistake, reported as one sentence."""


def _add_calendar_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--time-zone", default="UTC", help="IANA time zone (default UTC)")
    p.add_argument("--holidays", help="country code, optionally with subdivision: US, PL, DE-BY")
    p.add_argument("--send-window", help="local HH:MM-HH:MM")
    p.add_argument("--weekmask", default="1111100", help="business days Monday..Sunday")


def build_parser() -> argparse.ArgumentParser:
    # --db and --json are accepted before or after the command
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", default=argparse.SUPPRESS, help=f"database URL (default {DEFAULT_DB})"
    )
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable JSON output",
    )
    parser = argparse.ArgumentParser(
        prog="seqengine",
        description="Enrollment state machine and scheduling engine (Sell-compatible).",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(group: Any, name: str, help: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, help=help, parents=[common])
        return sub

    timeline = add(commands, "timeline", "what-if: each step's planned time")
    timeline.add_argument("sequence", metavar="SEQUENCE.json")
    timeline.add_argument("--start", required=True, help="ISO 8601 instant the enrollment starts")
    _add_calendar_options(timeline)
    timeline.add_argument(
        "--plot", metavar="FILE.png", help="also draw the plan on a calendar strip (PNG)"
    )
    timeline.set_defaults(run=_timeline)

    simulate = add(commands, "simulate", "Monte-Carlo run of a scenario on the real engine")
    simulate.add_argument("scenario", metavar="SCENARIO.yaml", help="the scenario to run")
    simulate.add_argument(
        "--enrollments", type=int, metavar="N", help="arrivals (default: the scenario's count)"
    )
    simulate.add_argument("--seed", type=int, metavar="S", help="default: the scenario's seed")
    simulate.add_argument(
        "--out", default="simulation", metavar="DIR",
        help="folder for summary.json, CSV tables and PNG plots (default ./simulation)",
    )
    simulate.set_defaults(run=_simulate)

    from engine.runtime import commands as server_commands

    server_commands.register(commands, add, _add_calendar_options)
    return parser


def _timeline(args: argparse.Namespace) -> int:
    from engine.runtime.whatif import plan_sequence_file, timeline_table

    steps, rows = plan_sequence_file(
        args.sequence,
        start=args.start,
        time_zone=args.time_zone,
        holidays=args.holidays,
        send_window=args.send_window,
        weekmask=args.weekmask,
    )
    if args.plot:
        from engine.runtime.whatif_plot import plot_file

        plot_file(steps, args, args.plot)
    if args.json:
        emit(steps)
    else:
        print(timeline_table(rows))
        if args.plot:
            print(f"plot: {args.plot}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from engine.runtime.simulation.command import simulate

    return simulate(args)


def emit(document: Any) -> None:
    print(json.dumps(document, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # not parser.set_defaults: it would change the shared --db/--json actions of every subcommand
    args.db = getattr(args, "db", DEFAULT_DB)
    args.json = getattr(args, "json", False)
    from engine.errors import EngineError

    try:
        run: Command = args.run
        return run(args)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing to report
        return 0
    except (CliError, EngineError, ValueError, OSError) as error:
        message = getattr(error, "message", None) or str(error)
        print(f"seqengine: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
