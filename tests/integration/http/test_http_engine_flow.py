"""Tasks, events, the clock and the outbox through HTTP (in-process)."""

from http_world import TASK_STEPS


def steps_of(enrollment: dict) -> list[dict]:
    return [item["data"] for item in enrollment["enrollment_steps"]["items"]]


def test_clock_get_and_advance(api):
    assert api.get("/engine/v1/clock").json == {
        "data": {"now": "2020-12-15T19:58:53.526Z", "mode": "simulated"},
        "meta": {"type": "clock"}}
    moved = api.post("/engine/v1/clock", {"advance_seconds": 0.474})
    assert moved.json["data"]["now"] == "2020-12-15T19:58:54Z"
    to = api.post("/engine/v1/clock", {"to": "2020-12-16T00:00:00+01:00"})
    assert to.json["data"]["now"] == "2020-12-15T23:00:00Z"


def test_the_clock_never_moves_back_and_refuses_bad_bodies(api):
    for data in ({"to": "2020-01-01T00:00:00Z"}, {"advance_seconds": -1},
                 {"advance_seconds": "5"}, {"advance_seconds": True}, {},
                 {"advance_seconds": 1, "to": "2021-01-01T00:00:00Z"}, {"to": "tomorrow"},
                 {"to": "2020-12-20T00:00:00"}, {"advance_seconds": 1e12},
                 {"to": "9999-01-01T00:00:00Z"}, {"advance_seconds": 1, "speed": 2},
                 {"advance_seconds": None}):
        result = api.post("/engine/v1/clock", data)
        assert result.status_code == 422, data
    assert api.get("/engine/v1/clock").json["data"]["now"] == "2020-12-15T19:58:53.526Z"


def test_a_step_due_now_waits_for_the_next_advance(api):
    enrollment = api.enroll(api.sequence())
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    assert steps_of(api.get(path).json["data"])[0]["action"]["data"]["status"] == "scheduled"
    assert api.get("/engine/v1/outbox").json["items"] == []
    api.advance(0)
    step0, step1 = steps_of(api.get(path).json["data"])
    assert step0["action"]["data"]["status"] == "completed"
    assert step0["action"]["data"]["executed_at"] == "2020-12-15T19:58:53Z"
    assert step1["action"]["data"]["estimated_execute_at"] == "2020-12-16T19:58:53Z"
    sent = api.get("/engine/v1/outbox").json["items"]
    assert [m["data"]["idempotency_key"] for m in sent] == [f"{enrollment['id']}:0:0"]


def test_block_resume_and_finish_through_outbox_failures(api):
    enrollment = api.enroll(api.sequence(), resource_id=31)
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    rule = api.post("/engine/v1/outbox/failures", {
        "resource_type": "lead", "resource_id": 31, "failure_reason": "recipient_invalid"})
    assert rule.json == {"data": {"resource_type": "lead", "resource_id": 31,
                                  "failure_reason": "recipient_invalid"},
                         "meta": {"type": "outbox_failure_rule"}}
    api.advance(1)
    blocked = api.get(path).json["data"]
    assert blocked["state"] == "blocked"
    action = steps_of(blocked)[0]["action"]["data"]
    assert (action["status"], action["failure_reason"]) == ("blocked", "recipient_invalid")
    assert api.delete("/engine/v1/outbox/failures").status_code == 204
    resumed = api.put(path, {"state": "active"}).json["data"]
    assert resumed["state"] == "active"
    api.advance(1)
    sent = api.get("/engine/v1/outbox").json["items"]
    assert [m["data"]["idempotency_key"] for m in sent] == [f"{enrollment['id']}:0:1"]
    finished = api.put(path, {"state": "finished"}).json["data"]
    assert finished["finished_reason"] == "manual"


def test_tasks_complete_and_their_step_moves_on(api):
    enrollment = api.enroll(api.sequence(TASK_STEPS), resource_id=8)
    api.advance(1)
    tasks = api.get("/v2/tasks", query_string="resource_type=lead&resource_id=8&completed=false")
    task = tasks.json["items"][0]["data"]
    assert tasks.json["items"][0]["meta"] == {"type": "task"}
    assert list(task) == ["id", "creator_id", "owner_id", "resource_type", "resource_id",
                          "completed", "completed_at", "due_date", "overdue", "remind_at",
                          "content", "created_at", "updated_at"]
    assert (task["content"], task["completed"], task["owner_id"]) == ("Call them", False,
                                                                      api.ids["user"])
    step = steps_of(api.get(f"/v2/sequence_enrollments/{enrollment['id']}").json["data"])[0]
    assert step["action"]["data"]["task_id"] == task["id"]
    updated = api.put(f"/v2/tasks/{task['id']}", {"completed": True, "content": "Called"})
    assert updated.status_code == 200
    assert updated.json["data"]["completed"] is True
    assert updated.json["data"]["completed_at"] == "2020-12-15T19:58:54Z"
    again = api.get(f"/v2/sequence_enrollments/{enrollment['id']}").json["data"]
    assert again["current_step_position"] == 1
    assert steps_of(again)[0]["action"]["data"]["status"] == "completed"
    assert api.get("/v2/tasks", query_string="completed=true").json["meta"]["count"] == 1


def test_task_update_changes_dates_and_refuses_unknown_fields(api):
    api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    task = api.get("/v2/tasks").json["items"][0]["data"]
    moved = api.put(f"/v2/tasks/{task['id']}", {"due_date": "2021-01-04T09:00:00Z",
                                                 "remind_at": "2021-01-04T08:30:00+00:00"})
    assert moved.json["data"]["due_date"] == "2021-01-04T09:00:00Z"
    assert moved.json["data"]["remind_at"] == "2021-01-04T08:30:00Z"
    refused = api.put(f"/v2/tasks/{task['id']}", {"owner_id": "three", "completed": "yes"})
    assert refused.status_code == 422
    assert {e["error"]["field"] for e in refused.json["errors"]} == {"/data/owner_id",
                                                                      "/data/completed"}
    stranger = api.put(f"/v2/tasks/{task['id']}", {"owner_id": 999, "resource_id": 12345})
    assert stranger.status_code == 422
    assert {e["error"]["field"] for e in stranger.json["errors"]} == {"/data/owner_id",
                                                                       "/data/resource_id"}
    same = api.put(f"/v2/tasks/{task['id']}", {k: task[k] for k in (
        "owner_id", "resource_type", "resource_id", "content")})
    assert same.status_code == 200, same.json


def test_deleting_a_task_finishes_its_enrollment(api):
    enrollment = api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    task = api.get("/v2/tasks").json["items"][0]["data"]
    deleted = api.delete(f"/v2/tasks/{task['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b"" and "Content-Type" not in deleted.headers
    assert deleted.headers["X-Request-Id"]
    assert api.get(f"/v2/tasks/{task['id']}").status_code == 404
    finished = api.get(f"/v2/sequence_enrollments/{enrollment['id']}").json["data"]
    assert (finished["state"], finished["finished_reason"]) == ("finished", "task_deleted")


def test_reply_finishes_the_enrollment(api):
    enrollment = api.enroll(api.sequence())
    result = api.post("/engine/v1/events", {"type": "email_replied",
                                            "enrollment_id": enrollment["id"]})
    assert result.status_code == 200
    body = result.json
    assert body["meta"] == {"type": "engine_event"}
    assert body["data"]["type"] == "email_replied"
    [finished] = body["data"]["finished_enrollments"]["items"]
    assert finished["data"]["finished_reason"] == "replied_to_email"
    twice = api.post("/engine/v1/events", {"type": "email_replied",
                                           "enrollment_id": enrollment["id"]})
    assert twice.json["data"]["finished_enrollments"]["items"] == []


def test_resource_deleted_finishes_every_enrollment_of_it(api):
    first, second = api.sequence(), api.sequence()
    api.enroll(first, resource_id=12)
    api.enroll(second, resource_id=12)
    api.enroll(first, resource_id=13)
    result = api.post("/engine/v1/events", {"type": "resource_deleted",
                                            "resource_type": "lead", "resource_id": 12})
    items = result.json["data"]["finished_enrollments"]["items"]
    assert [i["data"]["finished_reason"] for i in items] == ["resource_deleted"] * 2
    assert api.get("/v2/sequence_enrollments", query_string="state=active").json["meta"][
        "count"] == 1


def test_subscription_cancelled_finishes_everything_and_closes_reach(api):
    api.enroll(api.sequence(), resource_id=1)
    result = api.post("/engine/v1/events", {"type": "subscription_cancelled"})
    [finished] = result.json["data"]["finished_enrollments"]["items"]
    assert finished["data"]["finished_reason"] == "subscription_cancelled"
    after = api.get("/v2/sequence_enrollments")
    assert after.status_code == 403
    assert after.json["errors"][0]["error"]["code"] == "forbidden"


def test_event_bodies_are_checked(api):
    for data, fields in [
        ({"type": "email_replied"}, {"/data/enrollment_id"}),
        ({"type": "resource_deleted", "resource_type": "deal", "resource_id": 0},
         {"/data/resource_type", "/data/resource_id"}),
        ({"type": "subscription_cancelled", "now": 1}, {"/data/now"}),
        ({"type": "lead_converted"}, {"/data/type"}),
        ({}, {"/data/type"}),
    ]:
        result = api.post("/engine/v1/events", data)
        assert result.status_code == 422, data
        assert {e["error"]["field"] for e in result.json["errors"]} == fields


def test_sequences_create_read_edit(api):
    created = api.post("/v2/sequences", {
        "name": "Webinar", "steps": TASK_STEPS,
        "unsubscribe_settings": {"enabled": False, "locale": "pl-PL"}})
    data = created.json["data"]
    assert created.json["meta"] == {"type": "sequence"}
    assert (data["steps_total"], data["unsubscribe_settings"]["locale"]) == (2, "pl-PL")
    steps = data["steps"]["items"]
    assert steps[1]["data"]["action_properties"] == {"email_template_id": 7, "is_reply": True}
    assert [s["data"]["id"] for s in steps] == [data["id"] * 1000, data["id"] * 1000 + 1]
    enrollment = api.enroll(data["id"])
    edited = api.put(f"/v2/sequences/{data['id']}", {"name": "Renamed", "steps": []})
    assert edited.json["data"]["steps_total"] == 0
    fetched = api.get(f"/v2/sequences/{data['id']}").json["data"]
    assert fetched["name"] == "Renamed"
    running = api.get(f"/v2/sequence_enrollments/{enrollment['id']}").json["data"]
    assert running["sequence"]["data"]["name"] == "Renamed"
    assert running["enrollment_steps"]["meta"]["count"] == 2  # it keeps its copied steps
    listed = api.get("/v2/sequences").json
    assert [i["meta"]["type"] for i in listed["items"]] == ["sequence"]


def test_a_send_failed_for_a_known_reason_does_not_use_up_the_daily_limit(api):
    """#7 item 9, over HTTP: limit 2, the first send fails recipient_invalid, the two
    other leads are both sent."""
    api.engine.update_user(api.ids["user"], daily_email_limit=2)
    sequence_id = api.sequence()
    api.post("/engine/v1/outbox/failures", {
        "resource_type": "lead", "resource_id": 41, "failure_reason": "recipient_invalid"})
    enrollments = [api.enroll(sequence_id, resource_id=r) for r in (41, 42, 43)]
    api.advance(1)
    sent = api.get("/engine/v1/outbox").json["items"]
    assert sorted(m["data"]["resource_id"] for m in sent) == [42, 43]
    states = [api.get(f"/v2/sequence_enrollments/{e['id']}").json["data"]["state"]
              for e in enrollments]
    assert states == ["blocked", "active", "active"]
