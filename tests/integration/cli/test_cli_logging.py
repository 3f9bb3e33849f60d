"""Logs on stderr: text or JSON lines, one access line per request on `serve`, and the
`extra=` fields of any record (account, enrollment, position...) in both formats."""

import io
import json
import logging
from pathlib import Path

import httpx
import pytest
from processes import SEQENGINE, free_port, seqengine, serving

from engine.runtime.logs import configure


def access_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "seqengine.http.access" in line]


def test_serve_logs_one_json_line_per_request(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    token = json.loads(seqengine("--db", db, "demo", "--json").stdout)["token"]
    port = free_port()
    command = [SEQENGINE, "--db", db, "serve", "--port", str(port), "--log-format", "json"]
    with serving(command, port, tmp_path) as server:
        auth = {"Authorization": f"Bearer {token}"}
        ok = httpx.get(f"{server.base}/v2/sequences", headers=auth)
        missing = httpx.get(f"{server.base}/v2/sequences/999", headers=auth)
        denied = httpx.get(f"{server.base}/v2/sequences")
        server.stop()
        logged = server.err.read_text().splitlines()
    records = [json.loads(line) for line in logged]  # every line is JSON
    access = [r for r in records if r["logger"] == "seqengine.http.access"
              and r["path"].startswith("/v2/")]
    assert [(r["method"], r["path"], r["status"]) for r in access] == [
        ("GET", "/v2/sequences", 200), ("GET", "/v2/sequences/999", 404),
        ("GET", "/v2/sequences", 401)]
    assert [r["request_id"] for r in access] == [
        a.headers["X-Request-Id"] for a in (ok, missing, denied)]
    assert all(r["level"] == "info" and r["duration_ms"] >= 0 for r in access)
    assert access[0]["message"] == "request"


def test_serve_logs_text_lines_and_honours_the_level(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    port = free_port()
    with serving([SEQENGINE, "--db", db, "serve", "--port", str(port)], port,
                 tmp_path) as server:
        answer = httpx.get(f"{server.base}/engine/v1/health")
        server.stop()
        line = access_lines(server.err.read_text().splitlines())[-1]
    assert " info seqengine.http.access: request method=GET path=/engine/v1/health " \
           "status=200 duration_ms=" in line
    assert line.endswith(f" request_id={answer.headers['X-Request-Id']}")
    quiet_port = free_port()
    command = [SEQENGINE, "--db", db, "serve", "--port", str(quiet_port), "--log-level",
               "warning"]
    with serving(command, quiet_port, tmp_path) as server:
        httpx.get(f"{server.base}/engine/v1/health")
        server.stop()
        assert access_lines(server.err.read_text().splitlines()) == []


@pytest.fixture
def restore_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("form", ["text", "json"])
def test_extra_fields_show_in_both_formats(form: str) -> None:
    stream = io.StringIO()
    configure("info", form, stream)
    logging.getLogger("seqengine.scheduler").info(
        "sent step %d", 0, extra={"account_id": 1, "enrollment_id": 7, "position": 0,
                                  "reason": "two words"})
    logging.getLogger("seqengine.scheduler").debug("hidden")
    [line] = stream.getvalue().splitlines()
    if form == "json":
        record = json.loads(line)
        assert {k: record[k] for k in ("level", "logger", "message", "account_id",
                                       "enrollment_id", "position", "reason")} == {
            "level": "info", "logger": "seqengine.scheduler", "message": "sent step 0",
            "account_id": 1, "enrollment_id": 7, "position": 0, "reason": "two words"}
        assert record["time"].endswith("Z")
    else:
        assert line.endswith(" info seqengine.scheduler: sent step 0 account_id=1 "
                             'enrollment_id=7 position=0 reason="two words"')


@pytest.mark.usefixtures("restore_logging")
def test_an_exception_is_logged_with_its_traceback_in_json() -> None:
    stream = io.StringIO()
    configure("info", "json", stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("seqengine.scheduler").exception("failed", extra={"account_id": 3})
    record = json.loads(stream.getvalue())
    assert record["account_id"] == 3 and "RuntimeError: boom" in record["error"]
