"""The task webhook against a real receiver on 127.0.0.1: the delivery alone, then
`seqengine serve --task-delivery webhook:URL` end to end, with the host reporting
back through POST /engine/v1/events."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.adapters.webhook import TaskWebhookDelivery, sign
from engine.app.ports import TaskCreated, TaskRequest
from engine.domain.enums import ResourceType
from engine.errors import DeliveryError
from tests.integration.cli.processes import seqengine
from tests.integration.receiver import receiving
from tests.integration.served import SIMULATED, START, demo, serve_sqlite

LEASE_END = datetime(2026, 11, 23, 9, 5, 0, 250000, tzinfo=UTC)
DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REQUEST = TaskRequest("7:1:0", 1, 7, 1, 3, ResourceType.LEAD, 99, "Call them", DUE, LEASE_END)


class HostReceiver:
    """A host's task endpoint: one task per idempotency key, as the contract asks."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, bytes]] = []  # forced answers, first
        self.seen: list[tuple[dict[str, str], dict[str, Any], bytes]] = []
        self.tasks: dict[str, int] = {}
        self.lock = threading.Lock()

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.seen.append((headers, json.loads(body), body))
            if self.replies:
                return self.replies.pop(0)
            key = headers["Idempotency-Key"]
            task_id = self.tasks.setdefault(key, 900 + len(self.tasks))
            return 200, json.dumps({"task_id": task_id}).encode()


@pytest.fixture
def host() -> Iterator[tuple[HostReceiver, str]]:
    state = HostReceiver()
    with receiving(state.answer, "/tasks") as url:
        yield state, url


def test_a_task_is_posted_signed_and_its_id_read(host: tuple[HostReceiver, str]) -> None:
    state, url = host
    delivery = TaskWebhookDelivery(url, "s3cret")
    try:
        assert delivery.create(REQUEST, DUE) == TaskCreated(900)
        assert delivery.create(REQUEST, DUE) == TaskCreated(900)  # same key, same task
    finally:
        delivery.close()
    headers, payload, raw = state.seen[0]
    assert payload == {"idempotency_key": "7:1:0", "account_id": 1, "enrollment_id": 7,
                       "position": 1, "actor_id": 3, "resource_type": "lead",
                       "resource_id": 99, "content": "Call them",
                       "due_date": "2026-11-23T09:00:00Z",
                       "lease_expires_at": "2026-11-23T09:05:00.250Z"}
    assert headers["Idempotency-Key"] == "7:1:0"
    assert headers["X-Seqengine-Signature"] == sign("s3cret", raw)


@pytest.mark.parametrize("status, body", [
    (503, b""), (429, b""), (400, b"no"), (200, b"not json"), (200, b'{"task_id": "9"}'),
    (200, b'{"task_id": 0}'), (200, b"[]"),
])
def test_anything_but_a_task_id_is_retried(host: tuple[HostReceiver, str], status: int,
                                           body: bytes) -> None:
    state, url = host
    state.replies = [(status, body)]
    delivery = TaskWebhookDelivery(url)
    try:
        with pytest.raises(DeliveryError):
            delivery.create(REQUEST, DUE)
    finally:
        delivery.close()
    assert "X-Seqengine-Signature" not in state.seen[0][0]


TASK_THEN_EMAIL = [
    {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "hours",
     "action_type": "task", "action_properties": {"task_content": "Call them"}},
    {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "hours",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 7, "is_reply": False}},
]


def test_serve_hands_task_steps_to_the_host_and_hears_back(
    tmp_path: Path, host: tuple[HostReceiver, str]
) -> None:
    state, url = host
    db = tmp_path / "tasks.db"
    token = str(demo(db, "--start", START)["token"])
    with serve_sqlite(db, *SIMULATED, "--rate-limit", "0", "--task-delivery", f"webhook:{url}",
                      "--webhook-secret", "k") as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as api:
        sequence = api.post("/v2/sequences", json={"data": {
            "name": "call first", "steps": TASK_THEN_EMAIL}}).json()["data"]["id"]
        ids = [api.post("/v2/sequence_enrollments", json={"data": {
            "sequence_id": sequence, "resource_type": "lead", "resource_id": r}}
                        ).json()["data"]["id"] for r in (1, 2)]
        assert api.post("/engine/v1/clock", json={"data": {"advance_seconds": 1}}).is_success
        assert sorted(p["enrollment_id"] for _, p, _ in state.seen) == ids
        for headers, _, raw in state.seen:
            assert headers["X-Seqengine-Signature"] == sign("k", raw)

        def action(enrollment_id: int, position: int) -> dict[str, Any]:
            got = api.get(f"/v2/sequence_enrollments/{enrollment_id}").json()["data"]
            step = got["enrollment_steps"]["items"][position]["data"]
            found: dict[str, Any] = step["action"]["data"]
            return found

        first = action(ids[0], 0)
        assert first["status"] == "in_progress"
        assert first["task_id"] == state.tasks[f"{ids[0]}:0:0"]
        assert api.get("/v2/tasks").json()["meta"]["count"] == 0  # the host keeps them

        done = api.post("/engine/v1/events", json={"data": {
            "type": "task_completed", "enrollment_id": ids[0], "position": 0}})
        assert done.status_code == 200, done.text
        assert action(ids[0], 0)["status"] == "completed"
        deleted = api.post("/engine/v1/events", json={"data": {
            "type": "task_deleted", "enrollment_id": ids[1], "position": 0}}).json()["data"]
        assert deleted["type"] == "task_deleted"
        (finished,) = deleted["finished_enrollments"]["items"]
        assert finished["data"]["id"] == ids[1]
        assert finished["data"]["finished_reason"] == "task_deleted"

        bad = api.post("/engine/v1/events", json={"data": {
            "type": "task_completed", "enrollment_id": ids[0], "position": -1, "x": 1}})
        assert bad.status_code == 422
        assert sorted(e["error"]["field"] for e in bad.json()["errors"]) == [
            "/data/position", "/data/x"]
        email_step = api.post("/engine/v1/events", json={"data": {
            "type": "task_deleted", "enrollment_id": ids[0], "position": 1}})
        assert email_step.status_code == 422 and "not a task step" in email_step.text
    assert len(state.seen) == 2  # each task made once


def test_serve_refuses_an_unknown_task_delivery(tmp_path: Path) -> None:
    done = seqengine("--db", f"sqlite:///{tmp_path / 'x.db'}", "serve", "--task-delivery", "fax")
    assert done.returncode == 2 and "unknown task delivery" in done.stderr
