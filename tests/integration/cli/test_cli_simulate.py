"""`seqengine simulate` and `timeline --plot`, run as a user runs them (subprocesses)."""

import json
import subprocess
import sys
from pathlib import Path

SEQENGINE = Path(sys.executable).with_name("seqengine")
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "scenarios" / "two_reps.yaml"
PNG = b"\x89PNG\r\n\x1a\n"


def seqengine(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEQENGINE), *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_simulate_writes_the_summary_tables_and_plots(tmp_path: Path) -> None:
    done = seqengine("simulate", str(EXAMPLE), "--enrollments", "150", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    assert "150 enrollments of 'Two reps, warm and cold' (seed 7)" in done.stdout
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["enrollments"] == 150
    assert sum(summary["finished_reasons"].values()) == 150
    assert {"funnel", "time_to_finish_days", "overdue", "workload"} <= set(summary)
    for picture in ("funnel.png", "workload.png", "timeline.png"):
        assert (out / picture).read_bytes()[:8] == PNG
    funnel = (out / "funnel.csv").read_text().splitlines()
    assert funnel[0].startswith("sequence,position,action,enrolled_here,reached,completed")
    assert len(funnel) == 1 + 3 + 4  # a row per step of the two sequences
    assert not list(tmp_path.glob("*.db"))  # a simulation never touches a database


def test_simulate_json_prints_the_summary_and_seed_changes_the_run(tmp_path: Path) -> None:
    args = ["simulate", str(EXAMPLE), "--enrollments", "120", "--json"]
    first = seqengine(*args, "--out", "a", cwd=tmp_path)
    other = seqengine(*args, "--seed", "8", "--out", "b", cwd=tmp_path)
    assert first.returncode == other.returncode == 0
    a, b = json.loads(first.stdout), json.loads(other.stdout)
    assert (a["seed"], b["seed"]) == (7, 8)
    assert a["workload"] != b["workload"]


def test_a_bad_scenario_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    bad = tmp_path / "scenarios" / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("Europe/Warsaw", "Europe/Atlantis"))
    (tmp_path / "sequence.json").write_text((ROOT / "examples" / "sequence.json").read_text())
    done = seqengine("simulate", str(bad), "--out", "o", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == ("seqengine: bad.yaml.actors[0]: unknown time zone 'Europe/Atlantis'\n")
    assert not (tmp_path / "o").exists()
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    done = seqengine("simulate", str(broken), cwd=tmp_path)
    assert done.returncode == 2 and "is not valid YAML at line" in done.stderr
    assert "Traceback" not in done.stderr
    (tmp_path / "taken").write_text("")
    done = seqengine("simulate", str(EXAMPLE), "--out", "taken", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "seqengine: --out taken is a file; give a folder for the results\n"


def test_without_the_sim_extra_the_command_says_what_to_install(tmp_path: Path) -> None:
    hide_yaml = (
        "import sys; sys.modules['yaml'] = None\n"
        "from engine.runtime.cli import main\n"
        f"raise SystemExit(main(['simulate', {str(EXAMPLE)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide_yaml], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == (
        "seqengine: simulate needs yaml: install the sim extra: pip install 'seqengine[sim]'\n"
    )


def test_timeline_plot_draws_the_plan(tmp_path: Path) -> None:
    done = seqengine(
        "timeline",
        str(ROOT / "examples" / "sequence.json"),
        "--start",
        "2026-05-22T20:00:00Z",
        "--time-zone",
        "America/New_York",
        "--holidays",
        "US",
        "--send-window",
        "09:00-17:00",
        "--plot",
        "plan.png",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Tue 2026-05-26 16:00:00 EDT" in done.stdout  # Memorial Day skipped
    assert done.stdout.rstrip().endswith("plot: plan.png")
    assert (tmp_path / "plan.png").read_bytes()[:8] == PNG
