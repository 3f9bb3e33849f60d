"""Bad input of every kind gets its 4xx and changes nothing."""

import pytest
from http_world import TASK_STEPS, Api


@pytest.fixture
def populated(api: Api):
    sequence = api.sequence(TASK_STEPS)
    enrollment = api.enroll(sequence, resource_id=5)
    api.advance(1)
    task = api.get("/v2/tasks").json["items"][0]["data"]["id"]
    return api, {"s": sequence, "e": enrollment["id"], "t": task}


def everything(api: Api) -> tuple[bytes, ...]:
    paths = ["/v2/sequence_enrollments?per_page=100", "/v2/sequences?per_page=100",
             "/v2/tasks?per_page=100", "/engine/v1/outbox?per_page=100", "/engine/v1/clock"]
    found = []
    for path in paths:
        route, _, query = path.partition("?")
        found.append(api.get(route, query_string=query).content)
    return tuple(found)


STEP = TASK_STEPS[0]
BAD = [
    # (method, path, body or raw bytes, status, code of the first error)
    ("POST", "/v2/sequence_enrollments", b"nope", 400, "invalid_payload"),
    ("POST", "/v2/sequence_enrollments", (b'{"data": {}}', "text/plain"), 415,
     "unsupported_media_type"),
    ("POST", "/v2/sequence_enrollments", (b'{"data": {}}', None), 415, "unsupported_media_type"),
    ("POST", "/v2/sequences", (b'{"data": {"name": "' + b"x" * (1 << 20) + b'"}}',
                               "application/json"), 413, "payload_too_large"),
    ("POST", "/v2/sequence_enrollments",
     b'{"data": {"sequence_id": 1, "resource_type": "lead", "resource_id": 2, '
     b'"resource_id": 3}}', 400, "invalid_payload"),
    ("POST", "/v2/sequence_enrollments", {"sequence_id": 1}, 422, "missing"),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": "one", "resource_type": "lead", "resource_id": 2}, 422, "invalid_type"),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": 1, "resource_type": "deal", "resource_id": 2}, 422, "incorrect_value"),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": 1, "resource_type": " ", "resource_id": 2}, 422, "blank"),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": 1, "resource_type": "lead", "resource_id": 5}, 422, "already_exists"),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": 1, "resource_type": "lead", "resource_id": 2, "state": "active"},
     422, "unknown"),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": 999, "resource_type": "lead", "resource_id": 2}, 422, "incorrect_value"),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": 2**63, "resource_type": "lead", "resource_id": 2}, 422, "incorrect_value"),
    ("PUT", "/v2/sequence_enrollments/{e}", {"state": "paused"}, 422, "incorrect_value"),
    ("PUT", "/v2/sequence_enrollments/{e}", {"state": None}, 422, "blank"),
    ("PUT", "/v2/sequence_enrollments/{e}", {"state": "blocked"}, 422, "incorrect_value"),
    ("PUT", "/v2/sequence_enrollments/{e}", {}, 422, "missing"),
    ("PUT", "/v2/sequence_enrollments/999", {"state": "finished"}, 404, "not_found"),
    ("PUT", "/v2/sequence_enrollments/{e}", b'{"data": "x"}', 400, "invalid_payload"),
    ("POST", "/v2/sequence_enrollments/finish_ongoing_for_resource",
     {"resource_type": "lead"}, 422, "missing"),
    ("POST", "/v2/sequence_enrollments/finish_ongoing_for_resource",
     {"resource_type": "lead", "resource_id": 5, "sequence_ids": "1"}, 422, "invalid_type"),
    ("POST", "/v2/sequence_enrollments/finish_ongoing_for_resource",
     {"resource_type": "lead", "resource_id": 5, "sequence_ids": [1, "x"]}, 422, "invalid_type"),
    ("POST", "/v2/sequences", {"name": "", "steps": []}, 422, "blank"),
    ("POST", "/v2/sequences", {"name": "x"}, 422, "missing"),
    ("POST", "/v2/sequences", {"name": "x", "steps": [STEP | {"delay_from_previous_step": -1}]},
     422, "incorrect_value"),
    ("POST", "/v2/sequences", {"name": "x", "steps": [STEP | {"action_type": "sms"}]},
     422, "incorrect_value"),
    ("POST", "/v2/sequences", {"name": "x", "steps": [STEP], "unsubscribe_settings": 1},
     422, "invalid_type"),
    ("PUT", "/v2/sequences/{s}", {"name": 5}, 422, "invalid_type"),
    ("PUT", "/v2/sequences/{s}", {"steps": [{"position": 3}]}, 422, "incorrect_value"),
    ("PUT", "/v2/sequences/999", {"name": "x"}, 404, "not_found"),
    ("PUT", "/v2/tasks/{t}", {"completed": 1}, 422, "invalid_type"),
    ("PUT", "/v2/tasks/{t}", {"due_date": "soon"}, 422, "incorrect_value"),
    ("PUT", "/v2/tasks/{t}", {"resource_id": 3}, 422, "incorrect_value"),
    ("DELETE", "/v2/tasks/999", None, 404, "not_found"),
    ("GET", "/v2/tasks", "completed=maybe", 400, "invalid_param"),
    ("GET", "/v2/tasks", "resource_id=x", 400, "invalid_param"),
    ("GET", "/v2/sequences", "per_page=1000", 400, "invalid_param"),
    ("GET", "/engine/v1/outbox", "page=-3", 400, "invalid_param"),
    ("POST", "/engine/v1/events", {"type": "email_replied", "enrollment_id": 999},
     404, "not_found"),
    ("POST", "/engine/v1/events", {"type": "email_replied", "enrollment_id": True},
     422, "invalid_type"),
    ("POST", "/engine/v1/outbox/failures",
     {"resource_type": "lead", "resource_id": 5, "failure_reason": "bounced"},
     422, "incorrect_value"),
    ("POST", "/engine/v1/outbox/failures", {"resource_type": "lead"}, 422, "missing"),
    ("POST", "/engine/v1/clock", {"to": "2000-01-01T00:00:00Z"}, 422, "incorrect_value"),
    ("PATCH", "/v2/sequences/{s}", {"name": "x"}, 405, "method_not_allowed"),
    ("POST", "/v2/sequences/{s}", {"name": "x"}, 405, "method_not_allowed"),
]


@pytest.mark.parametrize("method,path,body,status,code", BAD)
def test_bad_input_is_refused_and_changes_nothing(populated, method, path, body, status, code):
    api, ids = populated
    before = everything(api)
    target = path.format(**ids)
    if isinstance(body, tuple):
        raw, content_type = body
        headers = {"Content-Type": content_type or ""}
        result = api.call(method, target, body=raw, headers=headers)
    elif isinstance(body, bytes):
        result = api.call(method, target, body=body, headers={"Content-Type": "application/json"})
    elif isinstance(body, str):
        result = api.call(method, target, query_string=body)
    elif body is None:
        result = api.call(method, target)
    else:
        result = api.call(method, target, json={"data": body})
    assert result.status_code == status, result.text
    assert result.json["errors"][0]["error"]["code"] == code
    assert everything(api) == before


def test_every_bad_field_is_reported_together(api):
    result = api.post("/v2/sequence_enrollments",
                      {"sequence_id": 0, "resource_type": 1, "actor_id": "me", "x": 1})
    fields = sorted(e["error"]["field"] for e in result.json["errors"])
    assert fields == ["/data/actor_id", "/data/resource_id", "/data/resource_type",
                      "/data/sequence_id", "/data/x"]
