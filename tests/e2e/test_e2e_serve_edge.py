"""`seqengine serve` at its edge, as a user runs it: real processes on loopback, at
the default settings unless a test says otherwise. The clock admin scope, a busy
port, the public URL of links, Sell's rate limit with the official client, and
request bodies that are not JSON, too big or ambiguous."""

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import basecrm
import httpx
import pytest
from e2e_world import EMAIL_STEPS, free_port, wait_until_up

SEQENGINE = str(Path(sys.executable).with_name("seqengine"))
SIMULATED = ("--clock", "simulated", "--start", "2020-12-15T19:58:53.526Z")


def run_json(db: Path, *args: str) -> dict:
    done = subprocess.run([SEQENGINE, "--db", f"sqlite:///{db}", "--json", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found: dict = json.loads(done.stdout)
    return found


@contextmanager
def serving(db: Path, *extra: str, port: int | None = None) -> Iterator[str]:
    """`seqengine serve` until the block ends. Its log (an access line per request)
    goes to a file next to the database: a pipe nobody reads would fill and stall it."""
    port = port or free_port()
    log = (db.parent / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [SEQENGINE, "--db", f"sqlite:///{db}", "serve", "--port", str(port), *extra],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_up(base, process)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{Path(log.name).read_text()}") from None
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str, str]:
    """A demo database with a plain (read,write) token and an admin one."""
    db = tmp_path_factory.mktemp("serve") / "edge.db"
    made = run_json(db, "demo", "--start", SIMULATED[-1])
    plain = run_json(db, "tokens", "create", "--user", str(made["user_id"]))
    admin = run_json(db, "tokens", "create", "--user", str(made["user_id"]),
                     "--scopes", "read,write,admin")
    assert plain["scopes"] == ["read", "write"]
    assert admin["scopes"] == ["admin", "read", "write"]
    return db, made, plain["token"], admin["token"]


@pytest.fixture(scope="module")
def server(demo) -> Iterator[str]:
    with serving(demo[0], *SIMULATED) as base:
        yield base


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_moving_the_clock_needs_the_admin_scope(server, demo):
    _, _, plain, admin = demo
    before = httpx.get(f"{server}/engine/v1/clock", headers=auth(plain)).json()
    refused = httpx.post(f"{server}/engine/v1/clock", headers=auth(plain),
                         json={"data": {"advance_seconds": 3_603_600}})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["error"]["code"] == "insufficient_scope"
    assert httpx.get(f"{server}/engine/v1/clock", headers=auth(plain)).json() == before
    moved = httpx.post(f"{server}/engine/v1/clock", headers=auth(admin),
                       json={"data": {"advance_seconds": 60}})
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["now"] == "2020-12-15T19:59:53.526Z"


def test_a_second_server_on_a_busy_port_fails_at_start(server, demo, tmp_path):
    port = server.rsplit(":", 1)[1]
    second = subprocess.run(
        [SEQENGINE, "--db", f"sqlite:///{tmp_path / 'other.db'}", "serve", "--port", port],
        capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0]
    assert "Traceback" not in second.stderr
    assert httpx.get(f"{server}/engine/v1/health").status_code == 200  # the first still serves


def test_a_port_held_by_anything_else_is_busy_too(demo):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        second = subprocess.run(
            [SEQENGINE, "--db", f"sqlite:///{demo[0]}", "serve", "--port", port],
            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1 and "in use" in second.stderr


def test_links_come_from_the_address_served_never_from_the_host_header(server, demo):
    listed = httpx.get(f"{server}/v2/sequences?per_page=1",
                       headers=auth(demo[2]) | {"Host": "evil.example"}).json()
    links = listed["meta"]["links"]
    assert links["self"] == f"{server}/v2/sequences?per_page=1&page=1"
    assert links["next_page"] == f"{server}/v2/sequences?per_page=1&page=2"
    assert "evil" not in json.dumps(listed)


def test_links_come_from_the_public_url(demo):
    with serving(demo[0], "--public-url", "https://sell.example.test/api/") as base:
        listed = httpx.get(f"{base}/v2/sequences?per_page=1",
                           headers=auth(demo[2]) | {"Host": "evil.example"}).json()
    assert listed["meta"]["links"]["next_page"] == (
        "https://sell.example.test/api/v2/sequences?per_page=1&page=2")


def test_the_official_client_creates_in_a_loop_without_a_429(server, demo):
    _, made, plain, _ = demo
    client = basecrm.Client(access_token=plain, base_url=server)
    sequence = made["sequence_ids"][0]
    for resource in range(1, 31):
        status, headers, created = client.http_client.post("/sequence_enrollments", body={
            "sequence_id": sequence, "resource_type": "lead", "resource_id": 5000 + resource})
        assert status == 200 and created.resource_id == 5000 + resource
    assert int(headers["RateLimit-Limit"]) == 36_000
    assert int(headers["RateLimit-Remaining"]) >= 36_000 - 40


@pytest.mark.parametrize("content_type,status,code", [
    ("text/plain", 415, "unsupported_media_type"),
    (None, 415, "unsupported_media_type"),
    ("application/json; charset=utf-8", 200, None),
])
def test_bodies_must_be_json(server, demo, content_type, status, code):
    body = json.dumps({"data": {"name": "by type", "steps": EMAIL_STEPS}}).encode()
    headers = auth(demo[2]) | ({"Content-Type": content_type} if content_type else {})
    answer = httpx.post(f"{server}/v2/sequences", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    if code:
        assert answer.json()["errors"][0]["error"]["code"] == code
        assert answer.json()["meta"]["logref"] == answer.headers["X-Request-Id"]


def test_big_bodies_and_duplicate_keys_are_refused(server, demo):
    headers = auth(demo[2]) | {"Content-Type": "application/json"}
    big = b'{"data": {"name": "' + b"x" * (1 << 20) + b'", "steps": []}}'
    answer = httpx.post(f"{server}/v2/sequences", content=big, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["error"]["code"] == "payload_too_large"
    twice = b'{"data": {"name": "a", "name": "b", "steps": []}}'
    answer = httpx.post(f"{server}/v2/sequences", content=twice, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["error"]["code"] == "invalid_payload"


def test_zapier_integration_inputs_rails_style(server, demo):
    """Zendesk's Zapier integration for Sell sends ids as strings and leaves optional
    fields blank, as its own test bundles do; Sell's Rails back end takes them."""
    _, made, plain, _ = demo
    sequence = str(made["sequence_ids"][1])
    created = httpx.post(f"{server}/v2/sequence_enrollments", headers=auth(plain), json={
        "data": {"sequence_id": sequence, "resource_type": "lead", "resource_id": "1000"}})
    assert created.status_code == 200, created.text
    data = created.json()["data"]
    assert (data["sequence"]["data"]["id"], data["resource_id"]) == (int(sequence), 1000)
    blank_actor = httpx.post(f"{server}/v2/sequence_enrollments", headers=auth(plain), json={
        "data": {"sequence_id": sequence, "resource_type": "contact", "resource_id": "1000",
                 "actor_id": ""}})
    assert blank_actor.status_code == 200, blank_actor.text
    assert blank_actor.json()["data"]["actor_id"] == made["user_id"]  # the token's user
    finished = httpx.post(
        f"{server}/v2/sequence_enrollments/finish_ongoing_for_resource", headers=auth(plain),
        json={"data": {"resource_type": "lead", "resource_id": "1000"}})
    assert finished.status_code == 200, finished.text
    updated = finished.json()["data"]["updated_enrollments"]["items"]
    assert [item["data"]["id"] for item in updated] == [data["id"]]
    assert updated[0]["data"]["state"] == "finished"
    listed = httpx.get(f"{server}/v2/sequence_enrollments?resource_ids=1000&per_page=100",
                       headers=auth(plain)).json()
    assert listed["meta"]["count"] == 2
    for bad, code in (("1000 ", "invalid_type"), ("0x10", "invalid_type"), (True, "invalid_type"),
                      ("", "blank")):
        refused = httpx.post(f"{server}/v2/sequence_enrollments", headers=auth(plain), json={
            "data": {"sequence_id": sequence, "resource_type": "lead", "resource_id": bad}})
        assert refused.status_code == 422
        error = refused.json()["errors"][0]["error"]
        assert (error["code"], error["field"]) == (code, "/data/resource_id")
