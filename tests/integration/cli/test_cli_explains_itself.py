"""The command explains itself: a version, a help line on every option of every
command (options added later included), --json everywhere, and every option
settable from the environment."""

import argparse
import json
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from processes import seqengine

from engine.runtime.cli import build_parser, main


def parsers(parser: argparse.ArgumentParser, path: str = "seqengine") -> Iterator[
        tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}")


def commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command that runs something (e.g. `seqengine tokens create`)."""
    return [(path, p) for path, p in parsers(build_parser()) if "run" in p._defaults]


def test_every_option_and_command_has_a_help_line() -> None:
    missing = []
    for path, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            name = "/".join(action.option_strings) or action.dest
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{path} {c.dest}" for c in action._choices_actions
                            if not (c.help or "").strip()]
            elif not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {name}")
    assert missing == []


def test_the_walk_sees_every_command() -> None:
    found = {path for path, _ in commands()}
    assert {"seqengine serve", "seqengine worker", "seqengine db upgrade", "seqengine demo",
            "seqengine tokens create", "seqengine sequences list",
            "seqengine enrollments list", "seqengine timeline"} <= found


WITHOUT_DATABASE = {"seqengine timeline", "seqengine simulate"}


def test_every_command_takes_json_and_only_timeline_and_simulate_go_without_a_database() -> None:
    for path, parser in commands():
        options = {o for action in parser._actions for o in action.option_strings}
        assert "--json" in options, path
        assert ("--db" in options) == (path not in WITHOUT_DATABASE), path


def test_version_comes_from_the_package_metadata() -> None:
    done = seqengine("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"seqengine {version('seqengine')}"


def test_help_tells_about_the_environment() -> None:
    done = seqengine("serve", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "SEQENGINE_DB, SEQENGINE_PORT" in text and "command line wins" in text
    assert "--clock {system,simulated} system: real time" in text
    assert "--log-format {text,json}" in text


def test_timeline_takes_no_database(tmp_path: Path) -> None:
    done = seqengine("timeline", "x.json", "--start", "2026-01-01T00:00:00Z", "--db",
                     "sqlite:///t.db", cwd=tmp_path)
    assert done.returncode == 2 and "unrecognized arguments: --db" in done.stderr
    done = seqengine("--db", "sqlite:///t.db", "timeline", "x.json", "--start",
                     "2026-01-01T00:00:00Z", cwd=tmp_path)
    assert done.returncode == 2 and "timeline uses no database" in done.stderr
    done = seqengine("--db", "sqlite:///t.db", "simulate", "x.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "simulate uses no database" in done.stderr
    assert list(tmp_path.iterdir()) == []


# -- the environment ---------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str, **environ: str) -> tuple[int, str, str]:
    code = main(list(argv), environ)
    out, err = capsys.readouterr()
    return code, out, err


def test_options_come_from_the_environment_and_flags_win(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from_env, from_flag = tmp_path / "env.db", tmp_path / "flag.db"
    code, out, _ = run(capsys, "accounts", "create", "--name", "Acme",
                       SEQENGINE_DB=f"sqlite:///{from_env}", SEQENGINE_JSON="true")
    assert code == 0 and json.loads(out)["name"] == "Acme" and from_env.exists()
    # a required option from the environment; a flag beats the variable
    code, out, _ = run(capsys, "users", "create", "--time-zone", "Europe/Paris",
                       SEQENGINE_DB=f"sqlite:///{from_env}", SEQENGINE_ACCOUNT="1",
                       SEQENGINE_TIME_ZONE="Asia/Tokyo", SEQENGINE_HOLIDAYS="FR")
    assert code == 0, out
    assert out.startswith("User 1 in account 1: Europe/Paris, holidays FR,")
    code, out, _ = run(capsys, "--db", f"sqlite:///{from_flag}", "accounts", "create",
                       "--name", "B", SEQENGINE_DB=f"sqlite:///{from_env}")
    assert code == 0 and from_flag.exists() and out.startswith("Account 1 (B)")


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("SEQENGINE_PORT", "eighty", "SEQENGINE_PORT='eighty' is not a valid --port value"),
    ("SEQENGINE_START", "soon", "ISO 8601"),
])
def test_a_bad_variable_is_one_sentence_for_the_commands_that_use_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], variable: str, value: str,
        message: str) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    code, _, err = run(capsys, "demo", **{"SEQENGINE_DB": db, variable: value})
    assert code == 2 and err.startswith("seqengine: ") and message in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = run(capsys, "db", "upgrade", **{"SEQENGINE_DB": db, variable: value})
    assert code == 0 and out.startswith("Created schema version")


def test_choices_and_flags_from_the_environment_are_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    code, _, err = run(capsys, "serve", SEQENGINE_DB=db, SEQENGINE_LOG_FORMAT="xml")
    assert code == 2 and "SEQENGINE_LOG_FORMAT='xml': choose one of text, json" in err
    code, _, err = run(capsys, "accounts", "create", "--name", "A", SEQENGINE_DB=db,
                       SEQENGINE_NO_REACH="maybe")
    assert code == 2 and "SEQENGINE_NO_REACH must be 1/true/yes or 0/false/no" in err
    code, out, _ = run(capsys, "accounts", "create", "--name", "A", SEQENGINE_DB=db,
                       SEQENGINE_NO_REACH="yes")
    assert code == 0 and "without Reach" in out
