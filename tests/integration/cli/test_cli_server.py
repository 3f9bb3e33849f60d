"""The server-side commands as a user runs them: real processes on a SQLite file,
`serve` on a real loopback port, `worker` draining due steps."""

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from processes import SEQENGINE, environment, free_port, stop_session, wait_until

from engine import ActionType, DelayUnit, Page, Step, SystemClock, build
from engine.adapters.http import hash_token
from engine.adapters.storage.sqlite import SqliteStore


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SEQENGINE, "--db", f"sqlite:///{db}", *args], capture_output=True, text=True, timeout=60,
        env=environment(),
    )


def run_json(*args: str, db: Path) -> dict[str, object]:
    done = run("--json", *args, db=db)
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_accounts_users_and_tokens(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert run("db", "upgrade", db=db).returncode == 0
    account = run_json("accounts", "create", "--name", "Acme", db=db)
    user = run_json(
        "users",
        "create",
        "--account",
        str(account["id"]),
        "--time-zone",
        "Europe/Berlin",
        "--holidays",
        "DE-BY",
        "--send-window",
        "09:00-17:00",
        db=db,
    )
    assert user["time_zone"] == "Europe/Berlin" and user["send_window"] == "09:00-17:00"
    token = run_json("tokens", "create", "--user", str(user["id"]), "--scopes", "read", db=db)
    assert len(str(token["token"])) == 64 and token["scopes"] == ["read"]
    assert run("tokens", "revoke", str(token["token"]), db=db).returncode == 0
    again = run("tokens", "revoke", "f" * 64, db=db)
    assert again.returncode == 2 and "no such token" in again.stderr
    bad = run("users", "create", "--account", str(account["id"]), "--time-zone", "Nowhere/X", db=db)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    missing = run("users", "create", "--account", "999", db=db)
    assert missing.returncode == 2 and "account 999 not found" in missing.stderr
    with SqliteStore(str(db)) as store, store.unit_of_work() as uow:
        saved = uow.get_token(hash_token(str(token["token"])))
        assert saved is not None and saved.revoked


@contextmanager
def serving(db: Path, *extra: str, db_url: str | None = None,
            ) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`seqengine serve` on a free loopback port, until the block ends (on the SQLite
    file `db`, or on `db_url`)."""
    port = free_port()
    server = subprocess.Popen(
        [SEQENGINE, "--db", db_url or f"sqlite:///{db}", "serve", "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env=environment())
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/engine/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up)
        yield base, server
    finally:
        stop_session(server)


START = "2020-12-15T19:58:53.526Z"
SIMULATED = ("--clock", "simulated", "--start", START)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    db = tmp_path / "serve.db"
    demo = run_json("demo", "--start", START, db=db)
    with serving(db, *SIMULATED) as (base, _):
        yield base, str(demo["token"])


def test_a_killed_server_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    token = str(run_json("demo", "--start", START, db=db)["token"])
    auth = {"Authorization": f"Bearer {token}"}
    with serving(db, *SIMULATED, "--rate-limit", "0") as (base, server):
        acknowledged = []
        for resource in range(1, 31):
            answer = httpx.post(f"{base}/v2/sequence_enrollments", headers=auth, json={
                "data": {"sequence_id": 1, "resource_id": resource, "resource_type": "lead"}})
            assert answer.status_code == 200
            acknowledged.append(answer.json())
        finished = httpx.put(f"{base}/v2/sequence_enrollments/{acknowledged[0]['data']['id']}",
                             headers=auth, json={"data": {"state": "finished"}})
        assert finished.status_code == 200
        acknowledged[0] = finished.json()
        os.killpg(server.pid, signal.SIGKILL)  # granian and its worker: no goodbye
        server.wait(timeout=30)
    with serving(db, *SIMULATED, "--rate-limit", "0") as (base, _):
        for before in acknowledged:
            after = httpx.get(f"{base}/v2/sequence_enrollments/{before['data']['id']}",
                              headers=auth)
            assert after.status_code == 200 and after.json() == before


def test_a_server_killed_mid_batch_loses_no_create_it_acknowledged(tmp_path: Path) -> None:
    """On the system clock concurrent creates are committed in batches (group commit,
    engine/adapters/storage/write_batch.py): kill -9 while 8 clients are posting, and
    every create answered 200 before the kill is there after a restart."""
    db = tmp_path / "batched.db"
    token = str(run_json("demo", "--start", START, db=db)["token"])
    auth = {"Authorization": f"Bearer {token}"}
    acknowledged: list[tuple[int, int]] = []  # (enrollment id, resource id)
    with serving(db, "--rate-limit", "0") as (base, server):

        def client(first: int) -> None:
            with httpx.Client(base_url=base, headers=auth, timeout=10) as api:
                for resource in range(first, first + 1000):
                    try:
                        answer = api.post("/v2/sequence_enrollments", json={"data": {
                            "sequence_id": 1, "resource_id": resource,
                            "resource_type": "lead"}})
                    except httpx.HTTPError:
                        return  # the server is gone
                    assert answer.status_code == 200, answer.text
                    acknowledged.append((answer.json()["data"]["id"], resource))

        with ThreadPoolExecutor(max_workers=8) as pool:
            clients = [pool.submit(client, 10_000 * n) for n in range(1, 9)]
            wait_until(lambda: len(acknowledged) >= 150)
            os.killpg(server.pid, signal.SIGKILL)  # mid-stream: no goodbye
            server.wait(timeout=30)
            for done in clients:
                done.result(timeout=60)
    with SqliteStore(str(db)) as store, store.unit_of_work(read_only=True) as uow:
        for enrollment_id, resource in acknowledged:
            found = uow.get_enrollment(1, enrollment_id)
            assert found is not None and found.resource_id == resource


def test_serve_speaks_the_seed_api_on_the_simulated_clock(served: tuple[str, str]) -> None:
    base, token = served
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=10) as api:
        created = api.post(
            "/v2/sequence_enrollments",
            json={
                "data": {"sequence_id": 1, "resource_id": 12866615, "resource_type": "lead"},
                "meta": {"type": "sequence_enrollment"},
            },
        )
        assert created.status_code == 200, created.text
        steps = created.json()["data"]["enrollment_steps"]["items"]
        planned = [s["data"]["action"]["data"]["estimated_execute_at"] for s in steps]
        assert planned == ["2020-12-15T19:58:53.526Z", "2020-12-16T19:58:53.526Z"]
        assert api.post("/engine/v1/clock", json={"data": {"advance_seconds": 60}}).is_success
        got = api.get(f"/v2/sequence_enrollments/{created.json()['data']['id']}").json()
        actions = [s["data"]["action"]["data"] for s in got["data"]["enrollment_steps"]["items"]]
        assert actions[0]["status"] == "completed"
        assert actions[1]["estimated_execute_at"] == "2020-12-16T19:58:53Z"
        assert api.get("/engine/v1/outbox").json()["meta"]["count"] == 1


def test_serve_refuses_bad_settings_with_one_sentence(tmp_path: Path) -> None:
    done = run("serve", "--clock", "simulated", "--start", "soon", db=tmp_path / "x.db")
    assert done.returncode == 2 and done.stderr.startswith("seqengine: ")
    done = run("serve", "--delivery", "pigeon", db=tmp_path / "x.db")
    assert done.returncode == 2 and "unknown delivery" in done.stderr
    for threads in ("0", "-3", "1025"):
        done = run("serve", "--blocking-threads", threads, db=tmp_path / "x.db")
        assert done.returncode == 2, done.stderr
        assert done.stderr == "seqengine: --blocking-threads must be from 1 to 1024\n"
    assert not (tmp_path / "x.db").exists()  # refused before anything was created


def test_serve_runs_requests_on_as_many_threads_as_it_is_given(tmp_path: Path) -> None:
    """With one blocking thread, a client stalling mid-body holds it, past its 408,
    until it goes: the trade-off docs/http.md states for a low --blocking-threads."""
    db = tmp_path / "one.db"
    token = str(run_json("demo", "--start", START, db=db)["token"])
    with serving(db, *SIMULATED, "--blocking-threads", "1", "--request-timeout", "1") as (
            base, _):
        health = f"{base}/engine/v1/health"
        assert httpx.get(health, timeout=5).status_code == 200
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as stalled:
            stalled.sendall(
                b"POST /v2/sequence_enrollments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\"")
            stalled.settimeout(10)
            assert stalled.recv(65536).startswith(b"HTTP/1.1 408")  # at the 1 s deadline
            with pytest.raises(httpx.TimeoutException):  # the only thread is still held
                httpx.get(health, timeout=0.5)
        assert httpx.get(health, timeout=5).status_code == 200  # released when it went


def test_a_worker_drains_due_steps(tmp_path: Path) -> None:
    db = tmp_path / "work.db"
    with SqliteStore(str(db)) as store:
        engine = build(store, SystemClock())
        account = engine.create_account("a").id
        actor = engine.create_user(account).id
        sequence = engine.create_sequence(
            account,
            name="now",
            creator_id=actor,
            steps=[Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False)],
        ).id
        for resource in range(1, 21):
            engine.enroll(
                account,
                sequence_id=sequence,
                resource_type="lead",
                resource_id=resource,
                actor_id=actor,
            )
    worker = subprocess.Popen(
        [
            SEQENGINE,
            "--db",
            f"sqlite:///{db}",
            "worker",
            "--concurrency",
            "2",
            "--poll-seconds",
            "0.1",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def drained() -> bool:
            with SqliteStore(str(db)) as store, store.unit_of_work() as uow:
                return len(uow.list_outbox(account, Page(size=100))) == 20

        wait_until(drained)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    with SqliteStore(str(db)) as store:
        engine = build(store, SystemClock())
        views = engine.list_enrollments(account)
        assert {v.enrollment.state.value for v in views} == {"finished"}


def test_serve_applies_the_rate_limit_it_is_given(tmp_path: Path) -> None:
    db = tmp_path / "limited.db"
    token = str(run_json("demo", "--start", START, db=db)["token"])
    auth = {"Authorization": f"Bearer {token}"}
    with serving(db, *SIMULATED, "--rate-limit", "3600", "--rate-burst", "2") as (base, _):
        answers = [httpx.get(f"{base}/v2/sequences", headers=auth) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert answers[2].status_code == 429 and int(answers[2].headers["Retry-After"]) >= 1
