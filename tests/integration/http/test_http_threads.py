"""Many threads on one app: the guard keeps the in-memory store consistent, and SQLite's
batched creates each get their own answer."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from http_world import Api, build_api
from pg_cluster import ThrowawayPostgresStore

from engine.adapters.storage.sqlite import SqliteStore


def test_concurrent_requests_on_the_memory_store(api):
    sequence = api.sequence()

    def work(attempt: int) -> tuple[int, int, int]:
        resource = attempt % 20 + 1  # each request is sent three times, under one key
        created = api.post("/v2/sequence_enrollments",
                           {"sequence_id": sequence, "resource_type": "lead",
                            "resource_id": resource},
                           headers={"Idempotency-Key": f"k{resource}"})
        listed = api.get("/v2/sequence_enrollments", query_string="per_page=100")
        advanced = api.post("/engine/v1/clock", {"advance_seconds": 60})
        return created.status_code, listed.status_code, advanced.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(work, range(60)))
    assert all(answer == (200, 200, 200) for answer in answers)
    enrollments = api.get("/v2/sequence_enrollments", query_string="per_page=100").json
    # one enrollment per idempotency key, whichever request got there first
    assert enrollments["meta"]["count"] == 20
    assert len({i["data"]["resource_id"] for i in enrollments["items"]}) == 20
    sent = api.get("/engine/v1/outbox", query_string="per_page=100").json["items"]
    assert len({m["data"]["idempotency_key"] for m in sent}) == len(sent) == 20


@pytest.fixture(params=["sqlite", "postgres"])
def sql_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """Over a SQL store on the system clock: creates without a key skip the guard's lock
    (SQLite commits them in batches, engine/adapters/storage/write_batch.py; PostgreSQL
    runs them side by side)."""
    if request.param == "postgres":
        request.getfixturevalue("pg_cluster")
        store: SqliteStore | ThrowawayPostgresStore = ThrowawayPostgresStore()
    else:
        store = SqliteStore(str(tmp_path / "threads.db"))
    try:
        yield build_api(store=store, clock_mode="system")
    finally:
        store.close()


def test_concurrent_creates_over_sql_each_get_their_own_answer(sql_api: Api) -> None:
    api = sql_api
    sequence = api.sequence()
    requests = []
    for n in range(120):
        if n % 10 == 3:  # a resource another request of this run also enrolls
            requests.append(("twice", {"sequence_id": sequence, "resource_type": "lead",
                                       "resource_id": 1000 + n - 3}))
        elif n % 10 == 7:
            requests.append(("unknown", {"sequence_id": 999_999, "resource_type": "lead",
                                         "resource_id": 5000 + n}))
        elif n % 10 == 9:
            requests.append(("bad", {"sequence_id": sequence, "resource_type": "lead"}))
        else:
            requests.append(("ok", {"sequence_id": sequence, "resource_type": "lead",
                                    "resource_id": 1000 + n}))

    def post(request: tuple[str, dict[str, object]]) -> tuple[str, int, dict[str, object]]:
        answer = api.post("/v2/sequence_enrollments", request[1])
        return request[0], answer.status_code, answer.json

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, requests))
    created: dict[object, object] = {}  # resource id -> the id its 200 answered
    for (kind, status, body), (_, sent) in zip(answers, requests, strict=True):
        if status == 200:
            data = body["data"]
            assert kind in ("ok", "twice") and isinstance(data, dict), body
            assert data["resource_id"] == sent["resource_id"]
            assert data["resource_id"] not in created, "two enrollments for one resource"
            created[data["resource_id"]] = data["id"]
        else:
            assert status == 422, body
            code = body["errors"][0]["error"]["code"]  # type: ignore[index]
            assert kind != "ok" or code == "already_exists", body
    for n in range(3, 120, 10):  # of each pair on one resource, exactly one was created
        assert sorted(answer[1] for answer in (answers[n - 3], answers[n])) == [200, 422]
    listed = api.get("/v2/sequence_enrollments", query_string="per_page=100&page=1").json
    more = api.get("/v2/sequence_enrollments", query_string="per_page=100&page=2").json
    items = [item["data"] for item in listed["items"] + more["items"]]
    resources = [item["resource_id"] for item in items]
    assert len(resources) == len(set(resources))  # one enrollment per resource, never two
    assert sorted(item["id"] for item in items) == list(range(1, len(items) + 1))
    assert set(resources) == {1000 + n for n in range(120) if n % 10 in (0, 1, 2, 4, 5, 6, 8)}
    assert {item["resource_id"]: item["id"] for item in items} == created
