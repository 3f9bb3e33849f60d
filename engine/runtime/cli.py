"""The `seqengine` command line (spec/cli.md).

Imports stay inside the commands so that `seqengine --help` starts fast.
Every error is one clear sentence on stderr and a non-zero exit, never a traceback.
Every option can also come from the environment (`from_environment`): SEQENGINE_
and the option's long name in capitals; a flag on the command line wins.
"""

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from engine.runtime.output import emit

DEFAULT_DB = "sqlite:///seqengine.db"
ENV_PREFIX = "SEQENGINE_"
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
EPILOG = (
    "Every option can also be set in the environment: SEQENGINE_ and the option's "
    "name in capitals, dashes as underscores (SEQENGINE_DB, SEQENGINE_PORT, "
    "SEQENGINE_LOG_FORMAT, ...); an option given on the command line wins."
)

Command = Callable[[argparse.Namespace], int]

__all__ = ["CliError", "build_parser", "emit", "main"]


class CliError(Exception):
    """A user mistake, reported as one sentence."""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("seqengine")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def add_calendar_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--time-zone", default="UTC", help="IANA time zone (default UTC)")
    p.add_argument("--holidays", help="country code, optionally with subdivision: US, PL, DE-BY")
    p.add_argument("--send-window", help="local hours emails may go out in: HH:MM-HH:MM")
    p.add_argument("--weekmask", default="1111100",
                   help="business days Monday..Sunday as 1/0 (default 1111100)")


def _common(db: bool) -> argparse.ArgumentParser:
    """--db and --json, accepted before or after the command (defaults are applied in
    main: a default here would overwrite a value given before the command)."""
    common = argparse.ArgumentParser(add_help=False)
    if db:
        common.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                            help=f"database URL (default {DEFAULT_DB}, in the current folder)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print machine-readable JSON instead of a human summary")
    return common


def build_parser() -> argparse.ArgumentParser:
    with_db, without_db = _common(db=True), _common(db=False)
    parser = argparse.ArgumentParser(
        prog="seqengine",
        description="Enrollment state machine and scheduling engine (Sell-compatible).",
        epilog=EPILOG,
        parents=[with_db],
    )
    parser.add_argument("--version", action="version", version=f"seqengine {version()}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(group: Any, name: str, help: str, *, db: bool = True) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(
            name, help=help, description=help, epilog=EPILOG,
            parents=[with_db if db else without_db],
        )
        return sub

    timeline = add(commands, "timeline", "what-if: each step's planned time", db=False)
    timeline.add_argument("sequence", metavar="SEQUENCE.json",
                          help="a sequence as JSON (bare or in 'data'; 'name' optional)")
    timeline.add_argument("--start", required=True, help="ISO 8601 instant the enrollment starts")
    add_calendar_options(timeline)
    timeline.add_argument(
        "--plot", metavar="FILE.png", help="also draw the plan on a calendar strip (PNG)"
    )
    timeline.set_defaults(run=_timeline, uses_db=False)

    simulate = add(
        commands, "simulate", "Monte-Carlo run of a scenario on the real engine", db=False
    )
    simulate.add_argument("scenario", metavar="SCENARIO.yaml", help="the scenario to run")
    simulate.add_argument(
        "--enrollments", type=int, metavar="N", help="arrivals (default: the scenario's count)"
    )
    simulate.add_argument("--seed", type=int, metavar="S", help="default: the scenario's seed")
    simulate.add_argument(
        "--out", default="simulation", metavar="DIR",
        help="folder for summary.json, CSV tables and PNG plots (default ./simulation)",
    )
    simulate.set_defaults(run=_simulate, uses_db=False)

    from engine.runtime import commands as server_commands

    server_commands.register(commands, add)
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


# -- the environment ---------------------------------------------------------


def env_name(option: str) -> str:
    return ENV_PREFIX + option.lstrip("-").upper().replace("-", "_")


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _parsers(sub)


def _flag(name: str, raw: str) -> bool:
    if raw.strip().lower() not in TRUE + FALSE:
        raise CliError(f"{name} must be 1/true/yes or 0/false/no, not {raw!r}")
    return raw.strip().lower() in TRUE


class EnvDefault:
    """An option's value from the environment, converted (and checked) only if the
    command that was run has that option."""

    def __init__(self, name: str, raw: str, action: argparse.Action) -> None:
        self.name, self.raw, self.action = name, raw, action

    def value(self) -> Any:
        if isinstance(self.action, argparse._StoreTrueAction):
            return _flag(self.name, self.raw)
        convert: Callable[[str], Any] = self.action.type or str  # type: ignore[assignment]
        try:
            value = convert(self.raw)
        except (TypeError, ValueError, argparse.ArgumentTypeError):
            option = self.action.option_strings[-1]
            raise CliError(f"{self.name}={self.raw!r} is not a valid {option} value") from None
        if self.action.choices is not None and value not in self.action.choices:
            choices = ", ".join(map(str, self.action.choices))
            raise CliError(f"{self.name}={self.raw!r}: choose one of {choices}")
        return value


def from_environment(parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
    """Make SEQENGINE_<OPTION> the default of every option (its flag still wins).
    --db and --json are shared by every command and resolved in `main` instead."""
    for sub in _parsers(parser):
        for action in sub._actions:
            longs = [o for o in action.option_strings if o.startswith("--")]
            takes_value = action.nargs != 0 or isinstance(action, argparse._StoreTrueAction)
            if not longs or action.default is argparse.SUPPRESS or not takes_value:
                continue
            raw = environ.get(env_name(longs[0]))
            if raw is not None:
                action.default = EnvDefault(env_name(longs[0]), raw, action)
                action.required = False


def resolve_environment(args: argparse.Namespace) -> None:
    for key, value in vars(args).items():
        if isinstance(value, EnvDefault):
            setattr(args, key, value.value())


# -- running -----------------------------------------------------------------


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    from engine.errors import EngineError

    try:
        parser = build_parser()
        from_environment(parser, environ)
        args = parser.parse_args(argv)
        resolve_environment(args)
        _shared_options(args, environ)
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


def _shared_options(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    # not parser.set_defaults: it would change the shared --db/--json actions of every subcommand
    if getattr(args, "uses_db", True):
        args.db = getattr(args, "db", None) or environ.get(env_name("--db")) or DEFAULT_DB
    elif getattr(args, "db", None) is not None:
        raise CliError(f"{args.command} uses no database: leave out --db")
    json_env = environ.get(env_name("--json"))
    args.json = getattr(args, "json", False) or (
        json_env is not None and _flag(env_name("--json"), json_env)
    )


if __name__ == "__main__":
    raise SystemExit(main())
