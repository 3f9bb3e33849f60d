"""A real server for the end-to-end tests: granian serving the WSGI app on an
ephemeral port of 127.0.0.1, over a SQLite file that the test also opens to set up
accounts and tokens (as the `seqengine` commands would)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from engine import SimulatedClock, build
from engine.adapters.http import issue_token
from engine.adapters.storage.sqlite import SqliteStore

HERE = Path(__file__).parent
START = "2020-12-15T19:58:53.526Z"  # a Tuesday: the seed's create example
EMAIL_STEPS = [
    {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "weekdays",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 9606, "is_reply": False}},
    {"delay_from_previous_step": 1, "delay_from_previous_step_unit": "weekdays",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 9607, "is_reply": False}},
]
TASK_STEPS = [
    {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "hours",
     "action_type": "task", "action_properties": {"task_content": "Call them"}},
    {"delay_from_previous_step": 2, "delay_from_previous_step_unit": "hours",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 7, "is_reply": True}},
]


def seed(db_url: str) -> dict[str, Any]:
    """Accounts, users and tokens, written straight into the database."""
    store = SqliteStore(db_url)
    try:
        from engine.wire.parse import parse_instant

        engine = build(store, SimulatedClock(parse_instant(START)))
        ours = engine.create_account("acme")
        user = engine.create_user(ours.id, name="Ann")
        other = engine.create_account("globex")
        stranger = engine.create_user(other.id, name="Eve")
        no_reach = engine.create_account("initech", reach_enabled=False)
        lonely = engine.create_user(no_reach.id, name="Ned")
        leaving = engine.create_account("hooli")
        quitter = engine.create_user(leaving.id, name="Gavin")
        tokens = {
            "rw": issue_token(store, user.id, {"read", "write", "admin"}),
            "read": issue_token(store, user.id, {"read"}),
            "other": issue_token(store, stranger.id),
            "noreach": issue_token(store, lonely.id),
            "doomed": issue_token(store, user.id),
            "leaving": issue_token(store, quitter.id),
        }
    finally:
        store.close()
    return {"tokens": tokens, "user": user.id, "stranger": stranger.id}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(db_url: str, rate: str = "1000000,3600,100000",
          request_timeout: float = 10.0) -> Iterator[str]:
    """Run the app with engine.adapters.http.server.serve (granian) until the block
    ends; yields the base URL (also the app's public URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, SEQENGINE_E2E_DB=db_url, SEQENGINE_E2E_START=START,
               SEQENGINE_E2E_RATE=rate, SEQENGINE_E2E_PUBLIC_URL=base,
               SEQENGINE_E2E_TIMEOUT=str(request_timeout))
    launcher = ("import sys; from pathlib import Path; "
                "from engine.adapters.http.server import serve; "
                "serve('e2e_server:make_app', host='127.0.0.1', port=int(sys.argv[1]), "
                "working_dir=Path(sys.argv[2]), request_timeout=float(sys.argv[3]))")
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, str(port), str(HERE), str(request_timeout)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # the whole session: killing granian's main process alone orphans its worker
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    """Poll the health route while the server process starts (start-up, not engine time)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"the server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base}/engine/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server did not come up within 30 s")


@dataclass
class Client:
    base: str
    tokens: dict[str, str]
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=30)

    def call(self, method: str, path: str, *, as_: str | None = "rw", data: Any = None,
             headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        sent = dict(headers or {})
        if as_ is not None:
            sent["Authorization"] = f"Bearer {self.tokens[as_]}"
        if data is not None:
            kwargs["json"] = {"data": data}
        return self.http.request(method, path, headers=sent, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, data=data, **kwargs)

    def put(self, path: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        return self.call("PUT", path, data=data, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("DELETE", path, **kwargs)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    def sequence(self, steps: list[dict[str, Any]], as_: str = "rw") -> int:
        body = self.ok(self.post("/v2/sequences", {"name": "e2e", "steps": steps}, as_=as_))
        found: int = body["data"]["id"]
        return found

    def enroll(self, sequence_id: int, resource_id: int, as_: str = "rw") -> dict[str, Any]:
        body = self.ok(self.post("/v2/sequence_enrollments", {
            "sequence_id": sequence_id, "resource_type": "lead", "resource_id": resource_id},
            as_=as_))
        found: dict[str, Any] = body["data"]
        return found

    def advance(self, seconds: float) -> str:
        body = self.ok(self.post("/engine/v1/clock", {"advance_seconds": seconds}))
        now: str = body["data"]["now"]
        return now
