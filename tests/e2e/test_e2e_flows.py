"""The engine's behaviour over a real HTTP server (granian, SQLite, simulated clock).

The server and its clock are shared by the tests of this module, so each test uses
its own resources and reads the clock instead of assuming it; time moves only
through POST /engine/v1/clock, never by sleeping.
"""

from datetime import UTC, datetime, timedelta

from e2e_world import EMAIL_STEPS, TASK_STEPS, Client

from engine.adapters.http import revoke_token
from engine.adapters.storage.sqlite import SqliteStore


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def wire(t: datetime) -> str:
    text = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    millis = t.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def plus_weekdays(t: datetime, n: int) -> datetime:
    """Monday-Friday in UTC, keeping the wall-clock time."""
    while t.weekday() >= 5:
        t += timedelta(days=1)
    for _ in range(n):
        t += timedelta(days=1)
        while t.weekday() >= 5:
            t += timedelta(days=1)
    return t


def actions(enrollment: dict) -> list[dict]:
    return [s["data"]["action"]["data"] for s in enrollment["enrollment_steps"]["items"]]


def now_of(server: Client) -> datetime:
    return instant(server.ok(server.get("/engine/v1/clock"))["data"]["now"])


def test_enroll_send_step_0_and_plan_step_1(server):
    sequence = server.sequence(EMAIL_STEPS)
    start = now_of(server)
    enrollment = server.enroll(sequence, 101)
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    first = actions(enrollment)
    assert first[0]["status"] == "scheduled"
    assert first[0]["estimated_execute_at"] == wire(plus_weekdays(start, 0))
    server.advance(0)  # due now: runs inside this advance, not before
    body = server.ok(server.get(path))["data"]
    step0, step1 = actions(body)
    sent_at = start.replace(microsecond=0)
    assert (step0["status"], step0["executed_at"]) == ("completed", wire(sent_at))
    assert step1["status"] == "scheduled"
    assert step1["estimated_execute_at"] == wire(plus_weekdays(sent_at, 1))
    outbox = server.ok(server.get("/engine/v1/outbox", params={"per_page": 100}))["items"]
    mine = [m["data"] for m in outbox if m["data"]["enrollment_id"] == enrollment["id"]]
    assert [(m["position"], m["email_template_id"], m["idempotency_key"]) for m in mine] == [
        (0, 9606, f"{enrollment['id']}:0:0")]
    server.advance((plus_weekdays(sent_at, 1) - now_of(server)).total_seconds())
    done = server.ok(server.get(path))["data"]
    assert (done["state"], done["finished_reason"]) == ("finished", "all_steps_completed")


def test_block_resume_and_finish(server):
    sequence = server.sequence(EMAIL_STEPS)
    enrollment = server.enroll(sequence, 102)
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    server.ok(server.post("/engine/v1/outbox/failures", {
        "resource_type": "lead", "resource_id": 102, "failure_reason": "sendout_disabled"}))
    server.advance(1)
    blocked = server.ok(server.get(path))["data"]
    assert blocked["state"] == "blocked"
    assert actions(blocked)[0]["failure_reason"] == "sendout_disabled"
    assert server.delete("/engine/v1/outbox/failures").status_code == 204
    resumed = server.ok(server.put(path, {"state": "active"}))["data"]
    assert resumed["state"] == "active" and actions(resumed)[0]["status"] == "scheduled"
    server.advance(1)
    keys = [m["data"]["idempotency_key"]
            for m in server.ok(server.get("/engine/v1/outbox", params={"per_page": 100}))["items"]]
    assert f"{enrollment['id']}:0:1" in keys and f"{enrollment['id']}:0:0" not in keys
    finished = server.ok(server.put(path, {"state": "finished"}))["data"]
    assert (finished["finished_reason"], actions(finished)[1]["status"]) == ("manual",
                                                                             "cancelled")


def test_finish_ongoing_for_a_resource_by_sequence_ids(server):
    first, second = server.sequence(EMAIL_STEPS), server.sequence(EMAIL_STEPS)
    server.enroll(first, 103)
    server.enroll(second, 103)
    body = server.ok(server.post("/v2/sequence_enrollments/finish_ongoing_for_resource", {
        "resource_type": "lead", "resource_id": 103, "sequence_ids": [first]}))
    updated = body["data"]["updated_enrollments"]["items"]
    assert [u["data"]["sequence"]["data"]["id"] for u in updated] == [first]
    left = server.ok(server.get("/v2/sequence_enrollments", params={
        "resource_ids": "103", "resource_type": "lead", "state": "active"}))
    assert [i["data"]["sequence"]["data"]["id"] for i in left["items"]] == [second]


def test_complete_a_task_then_delete_the_next_one(server):
    sequence = server.sequence([*TASK_STEPS[:1], *TASK_STEPS[:1]])
    enrollment = server.enroll(sequence, 104)
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    server.advance(1)
    [task] = server.ok(server.get("/v2/tasks", params={"resource_id": 104}))["items"]
    done = server.ok(server.put(f"/v2/tasks/{task['data']['id']}", {"completed": True}))
    assert done["data"]["completed"] is True
    server.advance(1)
    moved = server.ok(server.get(path))["data"]
    assert moved["current_step_position"] == 1
    assert actions(moved)[0]["status"] == "completed"
    second = actions(moved)[1]["task_id"]
    deleted = server.delete(f"/v2/tasks/{second}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert server.get(f"/v2/tasks/{second}").status_code == 404
    finished = server.ok(server.get(path))["data"]
    assert finished["finished_reason"] == "task_deleted"


def test_reply_and_resource_deleted(server):
    sequence = server.sequence(EMAIL_STEPS)
    replied = server.enroll(sequence, 105)
    body = server.ok(server.post("/engine/v1/events", {"type": "email_replied",
                                                       "enrollment_id": replied["id"]}))
    [item] = body["data"]["finished_enrollments"]["items"]
    assert item["data"]["finished_reason"] == "replied_to_email"
    other = server.sequence(EMAIL_STEPS)
    server.enroll(sequence, 106)
    server.enroll(other, 106)
    deleted = server.ok(server.post("/engine/v1/events", {
        "type": "resource_deleted", "resource_type": "lead", "resource_id": 106}))
    reasons = [i["data"]["finished_reason"]
               for i in deleted["data"]["finished_enrollments"]["items"]]
    assert reasons == ["resource_deleted", "resource_deleted"]


def test_subscription_cancelled(server):
    sequence = server.sequence(EMAIL_STEPS, as_="leaving")
    server.enroll(sequence, 107, as_="leaving")
    body = server.ok(server.post("/engine/v1/events", {"type": "subscription_cancelled"},
                                 as_="leaving"))
    [item] = body["data"]["finished_enrollments"]["items"]
    assert item["data"]["finished_reason"] == "subscription_cancelled"
    refused = server.get("/v2/sequence_enrollments", as_="leaving")
    assert refused.status_code == 403 and refused.json()["errors"][0]["error"]["code"] == (
        "forbidden")
    assert server.get("/v2/sequence_enrollments").status_code == 200  # others unaffected


def test_auth_cases(server, database):
    def code(response) -> tuple[int, str]:
        return response.status_code, response.json()["errors"][0]["error"]["code"]

    missing = server.get("/v2/sequences", as_=None)
    assert code(missing) == (401, "unauthorized")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer nothex", "Token " + "a" * 64, "Bearer " + "a" * 64):
        response = server.get("/v2/sequences", as_=None, headers={"Authorization": header})
        assert code(response) == (401, "unauthorized"), header
    assert server.get("/v2/sequences", as_="doomed").status_code == 200
    store = SqliteStore(database[0])
    try:
        assert revoke_token(store, server.tokens["doomed"])
    finally:
        store.close()
    assert code(server.get("/v2/sequences", as_="doomed")) == (401, "unauthorized")
    assert code(server.post("/v2/sequences", {"name": "x", "steps": []}, as_="read")) == (
        403, "insufficient_scope")
    assert code(server.get("/v2/sequences", as_="noreach")) == (403, "forbidden")


def test_bad_input_changes_nothing(server):
    sequence = server.sequence(EMAIL_STEPS)
    enrollment = server.enroll(sequence, 108)
    path = f"/v2/sequence_enrollments/{enrollment['id']}"

    def state() -> tuple[bytes, ...]:
        return tuple(server.get(p, params={"per_page": 100}).content for p in (
            "/v2/sequence_enrollments", "/v2/sequences", "/v2/tasks", "/engine/v1/outbox",
            "/engine/v1/clock"))

    before = state()
    cases = [
        ("POST", "/v2/sequence_enrollments", b"{", 400),
        ("POST", "/v2/sequence_enrollments", b'{"data": []}', 400),
        ("POST", "/v2/sequence_enrollments", b'{"data": {"sequence_id": -1}}', 422),
        ("PUT", path, b'{"data": {"state": "paused"}}', 422),
        ("PUT", path, b'{"data": {"state": "finished", "resource_id": 3}}', 422),
        ("POST", "/v2/sequences", b'{"data": {"name": "x", "steps": [{}]}}', 422),
        ("POST", "/engine/v1/clock", b'{"data": {"advance_seconds": -5}}', 422),
        ("POST", "/engine/v1/events", b'{"data": {"type": "nope"}}', 422),
        ("DELETE", "/v2/sequences/1", b"", 405),
        ("GET", "/v2/sequence_enrollments?page=0", b"", 400),
        ("GET", "/v2/nowhere", b"", 404),
    ]
    for method, target, body, status in cases:
        response = server.call(method, target, content=body,
                               headers={"Content-Type": "application/json"})
        assert response.status_code == status, (method, target, response.text)
        error = response.json()
        assert error["meta"]["logref"] == response.headers["X-Request-Id"]
    assert state() == before


def test_idempotency_key_over_the_wire(server):
    sequence = server.sequence(EMAIL_STEPS)
    data = {"sequence_id": sequence, "resource_type": "lead", "resource_id": 109}
    key = {"Idempotency-Key": "e2e-109"}
    first = server.post("/v2/sequence_enrollments", data, headers=key)
    server.advance(60)
    again = server.post("/v2/sequence_enrollments", data, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = server.ok(server.get("/v2/sequence_enrollments", params={"resource_ids": "109"}))
    assert listed["meta"]["count"] == 1


def test_pagination_links_are_absolute_from_the_request(server):
    sequence = server.sequence(EMAIL_STEPS)
    for resource in range(200, 205):
        server.enroll(sequence, resource)
    query = {"sequence_id": sequence, "per_page": 2}
    first = server.ok(server.get("/v2/sequence_enrollments", params=query))["meta"]
    base = f"{server.base}/v2/sequence_enrollments?sequence_id={sequence}&per_page=2&page="
    assert first["links"] == {"self": f"{base}1", "first_page": f"{base}1",
                              "next_page": f"{base}2"}
    followed = server.ok(server.http.get(first["links"]["next_page"], headers={
        "Authorization": f"Bearer {server.tokens['rw']}"}))["meta"]
    assert followed["links"]["prev_page"] == f"{base}1"
    last = server.ok(server.get("/v2/sequence_enrollments", params=query | {"page": 3}))["meta"]
    assert last["count"] == 1 and "next_page" not in last["links"]


def test_conventions_on_the_wire(server):
    response = server.get("/v2/sequences")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Content-Language"] == "en"
    assert len(response.headers["X-Request-Id"]) == 36
    docs = server.get("/docs", as_=None)
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    spec = server.get("/openapi.json", as_=None).json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
