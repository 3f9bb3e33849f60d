"""Broken object-level authorization: another account's objects do not exist for a caller.

Two identical worlds: in the first, our account owns the objects; in the second
(same setup, none of our objects) the same ids name nothing. The second account's
answer for our ids must be byte-identical in both, apart from the request id.
"""

import pytest
from http_world import TASK_STEPS, Api, build_api


def populate(api: Api) -> dict[str, int]:
    sequence = api.sequence(TASK_STEPS)
    enrollment = api.enroll(sequence, resource_id=5)
    api.advance(1)  # the task step comes due: its task is created
    task = api.get("/v2/tasks").json["items"][0]["data"]["id"]
    return {"sequence": sequence, "enrollment": enrollment["id"], "task": task}


ROUTES = [
    ("GET", "/v2/sequence_enrollments/{enrollment}", None),
    ("PUT", "/v2/sequence_enrollments/{enrollment}", {"state": "finished"}),
    ("GET", "/v2/sequences/{sequence}", None),
    ("PUT", "/v2/sequences/{sequence}", {"name": "stolen"}),
    ("GET", "/v2/tasks/{task}", None),
    ("PUT", "/v2/tasks/{task}", {"completed": True}),
    ("DELETE", "/v2/tasks/{task}", None),
    ("POST", "/engine/v1/events", {"type": "email_replied", "enrollment_id": "{enrollment}"}),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": "{sequence}", "resource_type": "lead", "resource_id": 1}),
]


def fill(template, ids):
    if isinstance(template, str):
        text = template.format(**ids)
        return int(text) if template.startswith("{") and text.isdigit() else text
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


def without_request_id(result) -> tuple[int, dict, dict]:
    body = result.json
    body["meta"].pop("logref")
    headers = {k.lower(): v for k, v in result.headers.items() if k.lower() != "x-request-id"}
    return result.status_code, headers, body


@pytest.fixture(scope="module")
def worlds():
    ours, empty = build_api(), build_api()
    ids = populate(ours)  # `empty` has none of them: there, the same ids name nothing
    return ours, empty, ids


@pytest.mark.parametrize("method,path,data", ROUTES)
def test_another_accounts_object_answers_like_an_unknown_id(worlds, method, path, data):
    ours, empty, ids = worlds
    before = snapshot(ours, ids)
    answers = []
    for world in (ours, empty):
        kwargs = {} if data is None else {"json": {"data": fill(data, ids)}}
        answers.append(world.call(method, fill(path, ids), as_="other", **kwargs))
    assert answers[0].status_code in (404, 422)
    assert without_request_id(answers[0]) == without_request_id(answers[1])
    assert snapshot(ours, ids) == before  # and nothing of ours changed


def snapshot(api: Api, ids: dict[str, int]) -> tuple:
    return (
        api.get(f"/v2/sequence_enrollments/{ids['enrollment']}").content,
        api.get(f"/v2/sequences/{ids['sequence']}").content,
        api.get(f"/v2/tasks/{ids['task']}").content,
    )


def test_lists_and_finish_ongoing_never_cross_accounts(worlds):
    ours, _, ids = worlds
    before = snapshot(ours, ids)
    query = f"ids={ids['enrollment']}"
    assert ours.get("/v2/sequence_enrollments", query_string=query, as_="other").json["items"] == []
    assert ours.get("/v2/sequences", as_="other").json["items"] == []
    assert ours.get("/v2/tasks", query_string=f"ids={ids['task']}", as_="other").json["items"] == []
    assert ours.get("/engine/v1/outbox", as_="other").json["items"] == []
    result = ours.post("/v2/sequence_enrollments/finish_ongoing_for_resource",
                       {"resource_type": "lead", "resource_id": 5}, as_="other")
    assert result.json["data"]["updated_enrollments"]["items"] == []
    deleted = ours.post("/engine/v1/events",
                        {"type": "resource_deleted", "resource_type": "lead", "resource_id": 5},
                        as_="other")
    assert deleted.json["data"]["finished_enrollments"]["items"] == []
    assert ours.delete("/engine/v1/outbox/failures", as_="other").status_code == 204
    assert snapshot(ours, ids) == before
