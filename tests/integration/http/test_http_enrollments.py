"""The seed's five operations over HTTP, with filters, pagination and Idempotency-Key."""

import json

import falcon.testing
import pytest
from http_world import TASK_STEPS, build_api, seed_bytes, seed_world

from engine.adapters.http import TokenAuth, create_app, issue_token
from engine.adapters.storage.memory import MemoryStore


def test_create_and_get_answer_the_seed_bytes():
    """The seed's create example, reproduced byte for byte (ids and times as the seed's)."""
    store = MemoryStore()
    engine = seed_world(store)
    store.ids["enrollment"] = 11752425
    token = issue_token(store, 2168016)
    client = falcon.testing.TestClient(create_app(
        engine, auth=TokenAuth(store), rate_limit=None, clock_mode="simulated"))
    headers = {"Authorization": f"Bearer {token}"}
    request = {"data": {"sequence_id": 554, "resource_id": 12866615, "resource_type": "lead"},
               "meta": {"type": "sequence_enrollment"}}
    expected = seed_bytes()

    created = client.simulate_post("/v2/sequence_enrollments", json=request, headers=headers)
    assert created.status_code == 200
    assert created.content == expected
    fetched = client.simulate_get("/v2/sequence_enrollments/11752426", headers=headers)
    assert fetched.content == expected


def test_actor_defaults_to_the_caller_and_may_be_a_colleague(api):
    sequence = api.sequence()
    mine = api.enroll(sequence, resource_id=1)
    assert mine["actor_id"] == api.ids["user"]
    result = api.post("/v2/sequence_enrollments", {
        "sequence_id": sequence, "resource_type": "contact", "resource_id": 1,
        "actor_id": api.ids["colleague"]})
    assert result.status_code == 200 and result.json["data"]["actor_id"] == api.ids["colleague"]


def test_an_actor_of_another_account_is_refused(api):
    sequence = api.sequence()
    result = api.post("/v2/sequence_enrollments", {
        "sequence_id": sequence, "resource_type": "lead", "resource_id": 1,
        "actor_id": api.ids["stranger"]})
    assert result.status_code == 422
    assert result.json["errors"][0]["error"]["field"] == "/data/actor_id"


def test_a_second_ongoing_enrollment_is_already_exists(api):
    sequence = api.sequence()
    api.enroll(sequence, resource_id=9)
    result = api.post("/v2/sequence_enrollments", {
        "sequence_id": sequence, "resource_type": "lead", "resource_id": 9})
    assert result.status_code == 422
    assert result.json["errors"][0]["error"]["code"] == "already_exists"


def test_put_finishes_and_refuses_what_the_lifecycle_forbids(api):
    enrollment = api.enroll(api.sequence())
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    same = api.put(path, {"state": "active"})
    assert same.status_code == 200 and same.json["data"]["state"] == "active"
    finished = api.put(path, {"state": "finished"})
    data = finished.json["data"]
    assert (data["state"], data["finished_reason"]) == ("finished", "manual")
    assert data["finished_actor_id"] == api.ids["user"]
    statuses = [s["data"]["action"]["data"] for s in data["enrollment_steps"]["items"]]
    assert all(a["status"] == "cancelled" and a["estimated_execute_at"] is None for a in statuses)
    again = api.put(path, {"state": "active"})
    assert again.status_code == 422
    error = again.json["errors"][0]["error"]
    assert error["field"] == "/data/state" and "finished" in error["message"]


def test_put_names_any_other_field(api):
    enrollment = api.enroll(api.sequence())
    result = api.put(f"/v2/sequence_enrollments/{enrollment['id']}",
                     {"state": "finished", "actor_id": 3, "resource_id": 4})
    assert result.status_code == 422
    fields = {e["error"]["field"] for e in result.json["errors"]}
    assert fields == {"/data/actor_id", "/data/resource_id"}
    assert api.get(f"/v2/sequence_enrollments/{enrollment['id']}").json["data"]["state"] == "active"


def test_finish_ongoing_for_resource_by_sequence_ids(api):
    first, second, third = api.sequence(), api.sequence(), api.sequence()
    for sequence in (first, second, third):
        api.enroll(sequence, resource_id=5)
    api.enroll(first, resource_id=6)
    result = api.post("/v2/sequence_enrollments/finish_ongoing_for_resource",
                      {"resource_type": "lead", "resource_id": 5, "sequence_ids": [second]})
    assert result.status_code == 200
    body = result.json
    assert body["meta"] == {"type": "sequence_enrollment_action"}
    assert body["data"]["enrollment_action"] == "finish_ongoing"
    updated = body["data"]["updated_enrollments"]
    assert updated["meta"] == {"type": "collection", "count": 1}
    assert updated["items"][0]["data"]["sequence"]["data"]["id"] == second
    everything = api.post("/v2/sequence_enrollments/finish_ongoing_for_resource",
                          {"resource_type": "lead", "resource_id": 5, "sequence_ids": None})
    finished = everything.json["data"]["updated_enrollments"]["items"]
    assert sorted(i["data"]["sequence"]["data"]["id"] for i in finished) == [first, third]
    ongoing = api.get("/v2/sequence_enrollments", query_string="state=active").json
    assert [i["data"]["resource_id"] for i in ongoing["items"]] == [6]


def test_list_filters(api):
    first, second = api.sequence(), api.sequence()
    a = api.enroll(first, resource_id=1)
    b = api.enroll(second, resource_id=2)
    c = api.enroll(first, resource_id=3, resource_type="contact")
    api.put(f"/v2/sequence_enrollments/{b['id']}", {"state": "finished"})

    def ids(query: str) -> list[int]:
        result = api.get("/v2/sequence_enrollments", query_string=query)
        assert result.status_code == 200, result.text
        return [item["data"]["id"] for item in result.json["items"]]

    assert ids("") == [a["id"], b["id"], c["id"]]
    assert ids(f"ids={c['id']},{a['id']}") == [a["id"], c["id"]]
    assert ids("resource_ids=1,3&resource_type=contact") == [c["id"]]
    assert ids(f"sequence_id={first}") == [a["id"], c["id"]]
    assert ids("state=finished") == [b["id"]]
    assert ids("state=blocked") == []
    assert api.get("/v2/sequence_enrollments", as_="other").json["items"] == []


def test_pagination_links(api):
    sequence = api.sequence()
    for resource in range(1, 6):
        api.enroll(sequence, resource_id=resource)
    base = "http://127.0.0.1:8000/v2/sequence_enrollments"  # the default public URL

    def page(n: int) -> dict:
        result = api.get("/v2/sequence_enrollments",
                         query_string=f"state=active&per_page=2&page={n}")
        return result.json["meta"]

    first = page(1)
    assert first["count"] == 2
    assert first["links"] == {
        "self": f"{base}?state=active&per_page=2&page=1",
        "first_page": f"{base}?state=active&per_page=2&page=1",
        "next_page": f"{base}?state=active&per_page=2&page=2",
    }
    middle = page(2)["links"]
    assert middle["prev_page"].endswith("page=1") and middle["next_page"].endswith("page=3")
    last = page(3)
    assert last["count"] == 1 and "next_page" not in last["links"]
    assert last["links"]["prev_page"] == f"{base}?state=active&per_page=2&page=2"
    beyond = page(4)
    assert beyond["count"] == 0 and "next_page" not in beyond["links"]


def test_a_full_last_page_has_no_next_link(api):
    sequence = api.sequence()
    for resource in range(1, 5):
        api.enroll(sequence, resource_id=resource)
    meta = api.get("/v2/sequence_enrollments", query_string="per_page=2&page=2").json["meta"]
    assert meta["count"] == 2 and "next_page" not in meta["links"]


def test_links_never_follow_the_request_host(api):
    result = api.get("/v2/sequences", headers={"Host": "evil.example"})
    assert result.json["meta"]["links"]["self"] == (
        "http://127.0.0.1:8000/v2/sequences?per_page=25&page=1")


def test_links_are_built_from_the_public_url():
    api = build_api()
    app = create_app(api.engine, auth=TokenAuth(api.engine.store), rate_limit=None,
                     clock_mode="simulated", public_url="https://sell.example.test/api/")
    client = falcon.testing.TestClient(app)
    result = client.simulate_get("/v2/sequences", headers={
        "Authorization": f"Bearer {api.tokens['rw']}", "Host": "evil.example"})
    assert result.json["meta"]["links"]["self"] == (
        "https://sell.example.test/api/v2/sequences?per_page=25&page=1")
    for bad in ["ftp://x", "sell.example.test", "http://x/?a=1", "http://u@x"]:
        with pytest.raises(ValueError):
            create_app(api.engine, auth=TokenAuth(api.engine.store), rate_limit=None,
                       clock_mode="simulated", public_url=bad)


def test_idempotency_key_replays_the_first_response(api):
    sequence = api.sequence()
    data = {"sequence_id": sequence, "resource_type": "lead", "resource_id": 77}
    key = {"Idempotency-Key": "retry-7f3a"}
    first = api.post("/v2/sequence_enrollments", data, headers=key)
    api.advance(3600)  # time passes: a fresh render would differ
    second = api.post("/v2/sequence_enrollments", data, headers=key)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    listed = api.get("/v2/sequence_enrollments", query_string="resource_ids=77").json
    assert listed["meta"]["count"] == 1
    # without the key, the same request is a second attempt: the rule refuses it
    assert api.post("/v2/sequence_enrollments", data).status_code == 422
    # another key is another request
    other = api.post("/v2/sequence_enrollments", data, headers={"Idempotency-Key": "other"})
    assert other.status_code == 422
    # a retry reformatted as other JSON is the same request
    reformatted = api.call("POST", "/v2/sequence_enrollments", headers=key,
                           body=json.dumps({"data": dict(reversed(data.items())),
                                            "meta": {"type": "sequence_enrollment"}}, indent=2))
    assert reformatted.content == first.content


def test_an_idempotency_key_names_one_request(api):
    sequence = api.sequence()
    key = {"Idempotency-Key": "k-1"}
    data = {"sequence_id": sequence, "resource_type": "lead", "resource_id": 1}
    assert api.post("/v2/sequence_enrollments", data, headers=key).status_code == 200
    changed = api.post("/v2/sequence_enrollments", data | {"resource_id": 2}, headers=key)
    assert changed.status_code == 422
    assert changed.json["errors"][0]["error"]["field"] == "Idempotency-Key"
    invalid = api.post("/v2/sequence_enrollments", {"sequence_id": "x"}, headers=key)
    assert invalid.status_code == 422
    assert api.get("/v2/sequence_enrollments").json["meta"]["count"] == 1


def test_idempotency_keys_are_per_account(api):
    mine = api.sequence()
    theirs = api.sequence(as_="other")
    key = {"Idempotency-Key": "same-key"}
    first = api.post("/v2/sequence_enrollments",
                     {"sequence_id": mine, "resource_type": "lead", "resource_id": 1}, headers=key)
    second = api.post("/v2/sequence_enrollments",
                      {"sequence_id": theirs, "resource_type": "lead", "resource_id": 1},
                      headers=key, as_="other")
    assert second.status_code == 200
    assert second.json["data"]["id"] != first.json["data"]["id"]


def test_a_refused_request_is_not_remembered(api):
    key = {"Idempotency-Key": "k1"}
    data = {"sequence_id": 4242, "resource_type": "lead", "resource_id": 1}
    assert api.post("/v2/sequence_enrollments", data, headers=key).status_code == 422
    sequence = api.sequence()
    data["sequence_id"] = sequence
    assert api.post("/v2/sequence_enrollments", data, headers=key).status_code == 200


def test_a_malformed_idempotency_key_is_invalid_param(api):
    sequence = api.sequence()
    result = api.post("/v2/sequence_enrollments",
                      {"sequence_id": sequence, "resource_type": "lead", "resource_id": 1},
                      headers={"Idempotency-Key": "x" * 256})
    assert result.status_code == 400
    assert result.json["errors"][0]["error"]["field"] == "Idempotency-Key"
    assert api.get("/v2/sequence_enrollments").json["meta"]["count"] == 0


def test_task_actions_show_task_content(api):
    enrollment = api.enroll(api.sequence(TASK_STEPS))
    action = enrollment["enrollment_steps"]["items"][0]["data"]["action"]["data"]
    assert action["task_content"] == "Call them" and "task_id" not in action
