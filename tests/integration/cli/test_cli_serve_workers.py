"""`seqengine serve --workers 2` on one PostgreSQL database (and one SQLite file),
driven with real HTTP.

Two granian worker processes, each with its own pool and its own scheduler,
share nothing but the database: concurrent creates for one resource still
make exactly one enrollment, and every due step is sent once.
"""

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest
from test_cli_server import SEQENGINE, serving, wait_until

from engine.app.ports import Page
from engine.runtime.settings import open_store

# step 0 is due at once; step 1 a week later keeps the enrollments ongoing
NOW_STEPS = [{"delay_from_previous_step": 0, "delay_from_previous_step_unit": "hours",
              "action_type": "automated_email",
              "action_properties": {"email_template_id": 1, "is_reply": False}},
             {"delay_from_previous_step": 7, "delay_from_previous_step_unit": "weekdays",
              "action_type": "automated_email",
              "action_properties": {"email_template_id": 2, "is_reply": True}}]


def cli(url: str, *args: str) -> dict[str, object]:
    done = subprocess.run([SEQENGINE, "--db", url, "--json", *args], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def seqengine_sessions(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT DISTINCT application_name FROM pg_stat_activity "
                            "WHERE datname = current_database() "
                            "AND application_name LIKE 'seqengine-%%'").fetchall()
    return {row[0] for row in rows}


@pytest.fixture(params=["postgres", "sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def test_two_server_processes_on_one_database(db_url: str, tmp_path: Path) -> None:
    pg_url = db_url
    account = cli(pg_url, "accounts", "create", "--name", "Acme")["id"]
    user = cli(pg_url, "users", "create", "--account", str(account), "--weekmask", "1111111")
    token = cli(pg_url, "tokens", "create", "--user", str(user["id"]))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    with serving(tmp_path / "unused.db", "--workers", "2", "--rate-limit", "0",
                 db_url=pg_url) as (base, _), httpx.Client(base_url=base, headers=auth,
                                                            timeout=30) as api:
        if pg_url.startswith("postgresql"):  # one pool per process
            wait_until(lambda: len(seqengine_sessions(pg_url)) == 2)
        created = api.post("/v2/sequences", json={"data": {"name": "now", "steps": NOW_STEPS}})
        assert created.status_code == 200, created.text
        sequence = created.json()["data"]["id"]

        def enroll(resource: int) -> int:
            return api.post("/v2/sequence_enrollments", json={"data": {
                "sequence_id": sequence, "resource_type": "lead",
                "resource_id": resource}}).status_code

        resources = [r for r in range(1, 41)] + [r for r in range(1, 6) for _ in range(3)]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(enroll, resources))
        assert statuses.count(200) == 40, statuses
        assert sorted(set(statuses)) == [200, 422]

        listed = api.get("/v2/sequence_enrollments", params={"per_page": 100}).json()
        assert sorted(item["data"]["resource_id"] for item in listed["items"]) == list(
            range(1, 41))

        def first_steps() -> list[str]:
            listed = api.get("/v2/sequence_enrollments", params={"per_page": 100}).json()
            return [item["data"]["enrollment_steps"]["items"][0]["data"]["action"]["data"][
                "status"] for item in listed["items"]]

        # the two in-process schedulers send and record every due step
        wait_until(lambda: set(first_steps()) == {"completed"})
        store = open_store(pg_url)
        try:
            with store.unit_of_work(read_only=True) as uow:
                sent = uow.list_outbox(int(str(account)), Page(size=100))
        finally:
            store.close()
        assert sorted(m.resource_id for m in sent) == list(range(1, 41))  # each once
        listed = api.get("/v2/sequence_enrollments", params={"per_page": 100}).json()
        assert {item["data"]["state"] for item in listed["items"]} == {"active"}


@pytest.mark.parametrize("bad", [("--workers", "0"), ("--workers", "2", "--clock", "simulated")])
def test_serve_refuses_workers_it_cannot_run(pg_url: str, bad: tuple[str, ...]) -> None:
    done = subprocess.run([SEQENGINE, "--db", pg_url, "serve", *bad], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("seqengine: --workers")
