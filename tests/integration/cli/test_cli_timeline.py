"""`seqengine timeline`, run as a user runs it: the installed command in a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SEQENGINE = Path(sys.executable).with_name("seqengine")
SEQUENCE = {
    "data": {
        "name": "Warm approach",
        "steps": [
            {
                "delay_from_previous_step": 0,
                "delay_from_previous_step_unit": "weekdays",
                "action_type": "automated_email",
                "action_properties": {"email_template_id": 9606, "is_reply": False},
            },
            {
                "delay_from_previous_step": 1,
                "delay_from_previous_step_unit": "weekdays",
                "action_type": "automated_email",
                "action_properties": {"email_template_id": 9607, "is_reply": False},
            },
            {
                "delay_from_previous_step": 4,
                "delay_from_previous_step_unit": "hours",
                "action_type": "task",
                "action_properties": {"task_content": "Call"},
            },
        ],
    }
}


def seqengine(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEQENGINE), *args], capture_output=True, text=True, cwd=cwd, timeout=60
    )


@pytest.fixture
def sequence_file(tmp_path: Path) -> Path:
    path = tmp_path / "sequence.json"
    path.write_text(json.dumps(SEQUENCE))
    return path


def test_json_is_the_seed_shaped_steps_collection(sequence_file: Path) -> None:
    done = seqengine(
        "timeline",
        str(sequence_file),
        "--start",
        "2020-12-15T19:58:53.526Z",
        "--json",
        cwd=sequence_file.parent,
    )
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)
    assert steps["meta"] == {"type": "collection", "count": 3}
    planned = [i["data"]["action"]["data"]["estimated_execute_at"] for i in steps["items"]]
    assert planned == [
        "2020-12-15T19:58:53.526Z",
        "2020-12-16T19:58:53.526Z",
        "2020-12-16T23:58:53.526Z",
    ]
    assert steps["items"][2]["data"]["action"]["data"]["task_content"] == "Call"
    assert [i["meta"]["type"] for i in steps["items"]] == ["enrollment_step"] * 3


def test_the_table_shows_local_and_utc_times(sequence_file: Path) -> None:
    done = seqengine(
        "timeline",
        str(sequence_file),
        "--start",
        "2026-03-06T16:00:00Z",
        "--time-zone",
        "America/New_York",
        "--holidays",
        "US",
        "--send-window",
        "09:00-17:00",
        cwd=sequence_file.parent,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["position", "action", "delay"]
    # Friday 11:00 EST; +1 weekday crosses the DST change: Monday 11:00 EDT = 15:00Z;
    # +4 hours = 15:00 local, inside the window
    assert "Fri 2026-03-06 11:00:00 EST" in lines[2] and "2026-03-06T16:00:00Z" in lines[2]
    assert "Mon 2026-03-09 11:00:00 EDT" in lines[3] and "2026-03-09T15:00:00Z" in lines[3]
    assert "2026-03-09T19:00:00Z" in lines[4]


def test_a_bare_sequence_object_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(SEQUENCE["data"]))
    done = seqengine(
        "--json", "timeline", str(path), "--start", "2026-01-01T00:00:00Z", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["meta"]["count"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "yesterday"], "ISO 8601"),
        (["--start", "2026-01-01T00:00:00Z", "--time-zone", "Mars/Olympus"], "time zone"),
        (["--start", "2026-01-01T00:00:00Z", "--holidays", "XX"], "XX"),
        (["--start", "2026-01-01T00:00:00Z", "--send-window", "18:00-09:00"], "window"),
    ],
)
def test_bad_input_is_one_sentence_and_a_non_zero_exit(
    sequence_file: Path, args: list[str], message: str
) -> None:
    done = seqengine("timeline", str(sequence_file), *args, cwd=sequence_file.parent)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("seqengine: ") and message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"data": {"name": "x"}}',
        '{"data": {"steps": "none"}}',
        '{"data": {"name": "x", "steps": [{"action_type": "fax"}]}}',
    ],
)
def test_malformed_files_are_reported_clearly(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    done = seqengine("timeline", str(path), "--start", "2026-01-01T00:00:00Z", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.startswith("seqengine: ")


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    done = seqengine("timeline", "missing.json", "--start", "2026-01-01T00:00:00Z", cwd=tmp_path)
    assert done.returncode == 2 and "cannot read missing.json" in done.stderr


def test_python_dash_m_engine_is_the_same_command(sequence_file: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "engine", "timeline", str(sequence_file),
                           "--start", "2020-12-15T19:58:53.526Z", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["meta"]["count"] == 3


def test_a_sequence_needs_no_name_for_a_what_if(tmp_path: Path) -> None:
    path = tmp_path / "nameless.json"
    path.write_text(json.dumps({"steps": SEQUENCE["data"]["steps"]}))
    done = seqengine("timeline", str(path), "--start", "2026-01-01T00:00:00Z", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 5  # header, rule, three steps
