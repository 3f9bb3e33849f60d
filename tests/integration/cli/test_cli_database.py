"""Which database a command uses, said with its absolute path; no stray files from
commands that fail or only read; `db upgrade` says what it did; a simulated clock
never starts behind the data."""

import json
import signal
import subprocess
from pathlib import Path

import pytest
from processes import SEQENGINE, environment, free_port, seqengine, serving, wait_until

from engine.adapters.storage.sqlite_database import schema

RELATIVE = "sqlite:///here.db"
LATEST = len(schema())


@pytest.mark.parametrize("command", [
    ["tokens", "create", "--user", "1"],
    ["users", "create", "--account", "1"],
    ["sequences", "create", "--user", "1", "missing.json"],
    ["serve", "--delivery", "pigeon"],
    ["worker", "--delivery", "pigeon"],
])
def test_a_failing_command_leaves_no_new_database(tmp_path: Path, command: list[str]) -> None:
    done = seqengine("--db", RELATIVE, *command, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_the_failure_names_the_new_file_it_did_not_keep(tmp_path: Path) -> None:
    done = seqengine("--db", RELATIVE, "tokens", "create", "--user", "1", cwd=tmp_path)
    assert f"user 1 not found in {tmp_path / 'here.db'}, a new empty database" in done.stderr


@pytest.mark.parametrize("command", [
    ["sequences", "list", "--account", "1"],
    ["enrollments", "list", "--account", "1"],
    ["tokens", "revoke", "f" * 64],
])
def test_reading_a_missing_database_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    done = seqengine("--db", RELATIVE, *command, cwd=tmp_path)
    assert done.returncode == 2
    assert f"there is no database at {tmp_path / 'here.db'}" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_failure_on_an_existing_database_keeps_it(tmp_path: Path) -> None:
    assert seqengine("--db", RELATIVE, "accounts", "create", "--name", "A",
                     cwd=tmp_path).returncode == 0
    done = seqengine("--db", RELATIVE, "tokens", "create", "--user", "9", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == "seqengine: user 9 not found"
    assert (tmp_path / "here.db").exists()


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    path = tmp_path / "here.db"
    first = seqengine("--db", RELATIVE, "db", "upgrade", cwd=tmp_path)
    assert first.stdout.strip() == f"Created schema version {LATEST} in {path}."
    again = seqengine("--db", RELATIVE, "db", "upgrade", "--json", cwd=tmp_path)
    assert json.loads(again.stdout)["result"] == f"up to date at version {LATEST} in {path}"


def test_serve_prints_the_absolute_path_of_its_database(tmp_path: Path) -> None:
    port = free_port()
    command = [SEQENGINE, "--db", RELATIVE, "serve", "--port", str(port)]
    with serving(command, port, tmp_path, cwd=tmp_path) as server:
        banner = server.out.read_text()
    assert banner.startswith(f"seqengine: serving {tmp_path / 'here.db'} on {server.base} ")


def test_the_worker_prints_the_absolute_path_of_its_database(tmp_path: Path) -> None:
    out = tmp_path / "worker.out"
    with out.open("w") as stdout:
        worker = subprocess.Popen([SEQENGINE, "--db", RELATIVE, "worker", "--json"],
                                  cwd=tmp_path, stdout=stdout, stderr=subprocess.PIPE,
                                  text=True, env=environment())
    try:
        wait_until(lambda: out.read_text().strip().endswith("}"))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    assert json.loads(out.read_text()) == {"database": str(tmp_path / "here.db"),
                                           "concurrency": 1}


def test_a_simulated_clock_may_not_start_before_the_data(tmp_path: Path) -> None:
    assert seqengine("--db", RELATIVE, "demo", "--start", "2026-03-02T09:00:00Z",
                     cwd=tmp_path).returncode == 0
    done = seqengine("--db", RELATIVE, "serve", "--port", str(free_port()), "--clock",
                     "simulated", "--start", "2020-12-15T19:58:53.526Z", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "seqengine: --start 2020-12-15T19:58:53.526Z is before 2026-03-02T09:00:00Z, the "
        f"newest instant recorded in {tmp_path / 'here.db'}: a simulated clock must not run "
        "behind its data (new enrollments would predate their sequences), so use a later "
        "--start or a separate --db file"]
    assert done.stdout == ""  # it never said it was serving
