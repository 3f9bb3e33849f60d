"""Per-token rate limiting: a token bucket on an injected monotonic clock."""

import pytest
from http_world import build_api

from engine.adapters.http import RateLimit, RateLimiter


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_default_is_sells():
    assert RateLimit() == RateLimit(limit=36_000, period=3600, burst=36_000)
    assert RateLimit().rate == 10.0


@pytest.mark.parametrize("bad", [{"limit": 0}, {"period": 0}, {"burst": 0}])
def test_a_rate_limit_needs_positive_numbers(bad):
    with pytest.raises(ValueError):
        RateLimit(**bad)


def test_beyond_the_burst_is_429_with_headers_until_the_bucket_refills():
    clock = FakeMonotonic()
    api = build_api(RateLimit(limit=3600, period=3600, burst=3), clock)  # 1 request a second
    answers = [api.get("/v2/sequences") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert answers[0].headers["RateLimit-Limit"] == "3"
    refused = api.get("/v2/sequences")
    assert refused.status_code == 429
    assert refused.json["errors"][0]["error"]["code"] == "rate_limit_exceeded"
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == "3"
    assert refused.json["meta"]["logref"] == refused.headers["X-Request-Id"]
    clock.now += 1.0
    assert api.get("/v2/sequences").status_code == 200
    assert api.get("/v2/sequences").status_code == 429
    clock.now += 60
    assert [api.get("/v2/sequences").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_buckets_are_per_token():
    clock = FakeMonotonic()
    api = build_api(RateLimit(limit=1, period=3600, burst=1), clock)
    assert api.get("/v2/sequences").status_code == 200
    assert api.get("/v2/sequences").status_code == 429
    assert api.get("/v2/sequences", as_="read").status_code == 200
    assert api.get("/v2/sequences", as_="other").status_code == 200
    assert api.get("/v2/sequences").headers["Retry-After"] == "3600"


def test_a_refused_request_changes_nothing():
    clock = FakeMonotonic()
    api = build_api(RateLimit(limit=1, period=60, burst=1), clock)
    assert api.get("/v2/sequences").status_code == 200
    refused = api.post("/v2/sequences", {"name": "x", "steps": []})
    assert refused.status_code == 429
    clock.now += 60
    assert api.get("/v2/sequences").json["meta"]["count"] == 0


def test_unauthenticated_and_public_requests_are_not_counted():
    clock = FakeMonotonic()
    api = build_api(RateLimit(limit=1, period=60, burst=1), clock)
    for _ in range(3):
        assert api.get("/engine/v1/health", as_=None).status_code == 200
        assert api.get("/v2/sequences", as_=None).status_code == 401
    assert api.get("/v2/sequences").status_code == 200


def test_the_limiter_on_its_own():
    clock = FakeMonotonic()
    limiter = RateLimiter(RateLimit(limit=10, period=1, burst=10), clock)
    decisions = [limiter.take("k") for _ in range(11)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert decisions[-1].headers()[-1] == ("Retry-After", "1")
    clock.now += 0.25
    assert limiter.take("k").remaining == 1
