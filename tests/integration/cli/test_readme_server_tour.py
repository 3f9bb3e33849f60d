"""The README's server tour, run as printed, twice in a row on one database and on a
port that is not the default: `make run PORT=P`'s commands (from `make -n`), the
`export TOKEN=...` line `demo` prints, the README's curl lines and its basecrm lines
against the real `seqengine serve`."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from processes import SEQENGINE, environment, free_port, serving

from tests.readme_blocks import code_blocks, shell_commands

ROOT = Path(__file__).resolve().parents[3]
README_ADDRESS = "http://127.0.0.1:8000"


def make_run_commands(port: int, db: str) -> list[list[str]]:
    """What `make run PORT=port` runs after setting up .venv: demo, then serve."""
    dry = subprocess.run(["make", "-s", "-n", "run", f"PORT={port}", f"DB={db}"], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=60,
                         env=environment())
    lines = [line.split() for line in dry.stdout.splitlines() if "bin/seqengine " in line]
    return [[SEQENGINE, *line[1:]] for line in lines]


def tour_once(port: int, db: str, folder: Path) -> tuple[str, list[object]]:
    demo_command, serve_command = make_run_commands(port, db)
    demo = subprocess.run(demo_command, cwd=folder, capture_output=True, text=True, timeout=60,
                          env=environment())
    assert demo.returncode == 0, demo.stderr
    [token] = re.findall(r"^\s*export TOKEN=([0-9a-f]{64})$", demo.stdout, re.M)
    assert f"http://127.0.0.1:{port}/v2/sequence_enrollments" in demo.stdout
    assert README_ADDRESS not in demo.stdout
    env = {"TOKEN": token}
    results: list[object] = []
    with serving(serve_command, port, folder, cwd=folder) as server:
        [curls] = code_blocks("Quick tour: the server", "sh")[:1]
        for command in shell_commands(curls):
            done = subprocess.run(["bash", "-c", command.replace(README_ADDRESS, server.base)],
                                  capture_output=True, text=True, timeout=60,
                                  env=environment(env))
            assert done.returncode == 0, done.stderr
            results.append(json.loads(done.stdout))
        [client_code] = code_blocks("Quick tour: the server", "python")
        done = subprocess.run([sys.executable, "-c",
                               client_code.replace(README_ADDRESS, server.base)],
                              capture_output=True, text=True, timeout=60, env=environment(env))
        assert done.returncode == 0, done.stderr
        results.append(done.stdout.split())
    return demo.stdout, results


def test_the_server_tour_works_twice_on_one_database_and_any_port(tmp_path: Path) -> None:
    assert shutil.which("curl"), "the README's tour needs curl"
    port = free_port()
    assert port != 8000
    db = f"sqlite:///{tmp_path / 'tour.db'}"
    first_demo, first = tour_once(port, db, tmp_path)
    second_demo, second = tour_once(port, db, tmp_path)

    first_ids = first_demo.splitlines()[0]
    assert first_ids.startswith("Demo account 1, user 1, sequences 1 ")
    assert "created in" in first_ids
    assert second_demo.splitlines()[0] == first_ids.replace("created in", "reused from")
    for results in (first, second):
        enrolled, listed, finished, client = results
        assert isinstance(enrolled, dict) and isinstance(finished, dict)
        assert enrolled["data"]["state"] == "active"
        assert enrolled["data"]["sequence"]["data"]["id"] == 1
        assert isinstance(listed, dict) and "errors" not in listed
        updated = finished["data"]["updated_enrollments"]["items"]
        assert [i["data"]["state"] for i in updated] == ["finished"]
        assert client == ["200", "active", "1", "finished"]
    # the second run enrolled the same lead again: the first enrollment was finished
    assert isinstance(second[1], dict) and second[1]["meta"]["count"] >= 3


def test_the_simulated_clock_example_runs_on_its_own_database(tmp_path: Path) -> None:
    exports, demo, serve, curl = shell_commands(code_blocks("Quick tour: the server", "sh")[1])
    port = str(free_port())
    env = dict(pair.split("=", 1) for pair in exports.removeprefix("export ").split())
    assert env["SEQENGINE_DB"] == "sqlite:///simulated.db"

    def argv(command: str) -> list[str]:
        words = command.split("#")[0].replace("8001", port).split()
        assert words[0] == ".venv/bin/seqengine"
        return [SEQENGINE, *words[1:]]

    made = subprocess.run(argv(demo), cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env=environment(env))
    assert made.returncode == 0, made.stderr
    [token] = re.findall(r"^\s*export TOKEN=([0-9a-f]{64})$", made.stdout, re.M)
    with serving(argv(serve), int(port), tmp_path, cwd=tmp_path, env=env):
        moved = subprocess.run(["bash", "-c", curl.replace("8001", port)], capture_output=True,
                               text=True, timeout=60, env=environment({"TOKEN": token}))
    assert json.loads(moved.stdout)["data"] == {"now": "2020-12-16T19:58:53.526Z",
                                                "mode": "simulated"}
    assert (tmp_path / "simulated.db").exists()
