"""Issue 7, items 10-13 through real HTTP: a task and its step never disagree, a task
that moved its enrollment on cannot be reopened, a skipped local date is no business
day, and the 1,000-id limit counts distinct ids."""

from datetime import UTC, datetime

import falcon.testing
from http_world import TASK_STEPS, Api

from engine import in_memory
from engine.adapters.http import TokenAuth, create_app, issue_token


def steps_of(enrollment: dict) -> list[dict]:
    return [item["data"] for item in enrollment["enrollment_steps"]["items"]]


def task_and_step(api: Api, enrollment_id: int) -> tuple[dict, dict]:
    (item,) = api.get("/v2/tasks").json["items"]
    enrollment = api.get(f"/v2/sequence_enrollments/{enrollment_id}").json["data"]
    return item["data"], steps_of(enrollment)[0]


def test_moving_the_due_date_moves_the_step_and_overdue_agrees(api: Api) -> None:
    enrollment = api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    task, _ = task_and_step(api, enrollment["id"])
    moved = api.put(f"/v2/tasks/{task['id']}", {"due_date": "2020-12-22T15:00:00Z"})
    assert moved.status_code == 200, moved.text
    api.advance(2 * 86400)  # Thursday: past the task's first due day
    task, step = task_and_step(api, enrollment["id"])
    assert step["action"]["data"]["estimated_execute_at"] == "2020-12-22T15:00:00Z"
    assert (task["overdue"], step["overdue"]) == (False, False)
    following = steps_of(api.get(f"/v2/sequence_enrollments/{enrollment['id']}").json["data"])
    assert following[1]["action"]["data"]["estimated_execute_at"] == "2020-12-23T15:00:00Z"
    api.advance(6 * 86400)  # Wednesday 23rd: the moved due day is over
    task, step = task_and_step(api, enrollment["id"])
    assert (task["overdue"], step["overdue"]) == (True, True)


def test_a_task_step_is_overdue_on_its_owner_calendar(api: Api) -> None:
    enrollment = api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    task, _ = task_and_step(api, enrollment["id"])
    tokyo = api.engine.create_user(api.ids["account"], time_zone="Asia/Tokyo").id
    assert api.put(f"/v2/tasks/{task['id']}", {"owner_id": tokyo}).status_code == 200
    api.advance(4 * 3600 + 120)  # 00:00:54Z: Tuesday is over in UTC, not yet in Tokyo
    task, step = task_and_step(api, enrollment["id"])
    assert (task["overdue"], step["overdue"]) == (False, False)
    api.advance(15 * 3600)  # 15:00:54Z: Tokyo's Wednesday is over
    task, step = task_and_step(api, enrollment["id"])
    assert (task["overdue"], step["overdue"]) == (True, True)


def test_reopening_a_task_that_moved_its_enrollment_on_is_a_422(api: Api) -> None:
    enrollment = api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    task, _ = task_and_step(api, enrollment["id"])
    assert api.put(f"/v2/tasks/{task['id']}", {"completed": True}).status_code == 200
    refused = api.put(f"/v2/tasks/{task['id']}", {"completed": False, "content": "x"})
    assert refused.status_code == 422, refused.text
    (error,) = refused.json["errors"]
    assert error["error"]["field"] == "/data/completed"
    assert "cannot be reopened" in error["error"]["message"]
    task, step = task_and_step(api, enrollment["id"])
    assert (task["completed"], task["content"]) == (True, "Call them")
    assert step["action"]["data"]["status"] == "completed"


def test_a_task_of_a_finished_enrollment_is_edited_freely(api: Api) -> None:
    enrollment = api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    task, _ = task_and_step(api, enrollment["id"])
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    assert api.put(path, {"state": "finished"}).status_code == 200
    before = api.get(path).json
    for change in ({"completed": True}, {"completed": False},
                   {"due_date": "2021-01-04T09:00:00Z"}):
        assert api.put(f"/v2/tasks/{task['id']}", change).status_code == 200
    assert api.get(path).json == before


def test_ids_limit_counts_distinct_ids(api: Api) -> None:
    enrollment = api.enroll(api.sequence())
    repeated = ",".join([str(enrollment["id"])] * 1001)
    listed = api.get("/v2/sequence_enrollments", query_string=f"ids={repeated}")
    assert listed.status_code == 200, listed.text
    assert [item["data"]["id"] for item in listed.json["items"]] == [enrollment["id"]]
    distinct = ",".join(str(i) for i in range(1, 1002))
    assert api.get("/v2/sequence_enrollments",
                   query_string=f"ids={distinct}").status_code == 400


def test_a_skipped_local_date_is_no_business_day() -> None:
    """Pacific/Apia skipped Friday 2011-12-30: from Thursday 20:00Z (10:00 local),
    +1 weekday is Monday 2 January and +2 Tuesday 3 January, 10:00 local (UTC+14)."""
    engine = in_memory(datetime(2011, 12, 29, 20, tzinfo=UTC))
    account = engine.create_account("apia").id
    user = engine.create_user(account, time_zone="Pacific/Apia")
    client = falcon.testing.TestClient(create_app(engine, auth=TokenAuth(engine.store),
                                                  rate_limit=None, clock_mode="simulated"))
    headers = {"Authorization": f"Bearer {issue_token(engine.store, user.id)}"}
    weekday = {"delay_from_previous_step_unit": "weekdays", "action_type": "automated_email"}
    steps = [
        {**weekday, "delay_from_previous_step": delay,
         "action_properties": {"email_template_id": 1 + delay, "is_reply": False}}
        for delay in (1, 1)
    ]
    created = client.simulate_post("/v2/sequences", headers=headers,
                                   json={"data": {"name": "Apia", "steps": steps}})
    assert created.status_code == 200, created.text
    enrolled = client.simulate_post("/v2/sequence_enrollments", headers=headers, json={
        "data": {"sequence_id": created.json["data"]["id"], "resource_type": "lead",
                 "resource_id": 1}})
    assert enrolled.status_code == 200, enrolled.text
    planned = [step["action"]["data"]["estimated_execute_at"]
               for step in steps_of(enrolled.json["data"])]
    assert planned == ["2012-01-01T20:00:00Z", "2012-01-02T20:00:00Z"]
