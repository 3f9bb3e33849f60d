"""Many threads on one app: the guard keeps the in-memory store consistent."""

from concurrent.futures import ThreadPoolExecutor


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
