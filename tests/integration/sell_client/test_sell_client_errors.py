"""Sell's error envelopes as typed errors, and 429 with Retry-After, against our server."""

import uuid

import pytest

from engine import EngineError
from engine.adapters.http import RateLimit
from engine.adapters.sell import (
    SellApiError,
    SellAuthError,
    SellBadRequest,
    SellError,
    SellNotFound,
    SellRateLimited,
    SellValidationError,
)


def test_not_found_carries_the_sell_details(sell):
    with pytest.raises(SellNotFound) as caught:
        sell.get_enrollment(424242)
    error = caught.value
    assert isinstance(error, SellApiError) and isinstance(error, SellError)
    assert isinstance(error, EngineError) and error.status == 502  # a bad gateway for us
    assert (error.http_status, error.code, error.field) == (404, "not_found", None)
    assert error.message == "sequence_enrollment 424242 not found"
    assert error.errors[0].resource == "sequence_enrollment"
    assert error.logref == error.request_id
    uuid.UUID(error.logref)
    assert (error.method, error.url.endswith("/v2/sequence_enrollments/424242")) == ("GET", True)
    assert "404" in str(error) and "not_found" in str(error) and error.logref in str(error)


def test_another_accounts_enrollment_is_not_found(world, sell):
    with world.client("other") as stranger:
        theirs = stranger.create_enrollment(world.api.sequence(as_="other"), "lead", 5)
    with pytest.raises(SellNotFound):
        sell.get_enrollment(theirs.id)
    with pytest.raises(SellNotFound):
        sell.finish_enrollment(theirs.id)


def test_validation_errors_are_all_reported(world, sell):
    with pytest.raises(SellValidationError) as caught:
        sell.create_enrollment(0, "deal", 5)
    error = caught.value
    assert error.http_status == 422
    assert [(e.code, e.field) for e in error.errors] == [
        ("incorrect_value", "/data/sequence_id"), ("incorrect_value", "/data/resource_type")]
    assert all(e.resource == "sequence_enrollment" for e in error.errors)
    assert (error.code, error.field) == ("incorrect_value", "/data/sequence_id")
    assert error.errors[0].details == "got 0"
    created = sell.create_enrollment(world.sequence(), "lead", 5)
    with pytest.raises(SellValidationError) as bad_state:
        sell.update_enrollment(created.id, "paused")
    assert bad_state.value.field == "/data/state"
    finished = sell.finish_enrollment(created.id)
    assert sell.finish_enrollment(created.id) == finished  # asking again is a no-op
    with pytest.raises(SellValidationError) as refused:
        sell.resume_enrollment(created.id)
    assert (refused.value.code, refused.value.field) == ("incorrect_value", "/data/state")
    assert "terminal state" in refused.value.message


def test_bad_query_parameters_are_a_bad_request(sell):
    with pytest.raises(SellBadRequest) as caught:
        sell.list_enrollments(per_page=500)
    assert (caught.value.http_status, caught.value.code, caught.value.field) == (
        400, "invalid_param", "per_page")


def test_authentication_and_scope(world):
    with world.client("0" * 64) as stranger, pytest.raises(SellAuthError) as unknown:
        stranger.list_enrollments()
    assert (unknown.value.http_status, unknown.value.code) == (401, "unauthorized")
    with world.client("read") as reader:
        assert list(reader.iter_enrollments()) == []
        with pytest.raises(SellAuthError) as scope:
            reader.create_enrollment(world.sequence(), "lead", 5)
    assert (scope.value.http_status, scope.value.code) == (403, "insufficient_scope")
    with world.client("noreach") as no_reach, pytest.raises(SellAuthError) as reach:
        no_reach.list_sequences()
    assert (reach.value.http_status, reach.value.code) == (403, "forbidden")
    assert world.waits == []  # none of these is retried


class FakeMonotonic:
    """The rate limiter's clock; the client's injected sleep moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_429_waits_retry_after_then_succeeds(worlds):
    clock = FakeMonotonic()
    world = worlds(rate_limit=RateLimit(limit=3600, period=3600, burst=2), rate_clock=clock)
    with world.client(sleep=clock.sleep, record=True) as sell:
        sequence_id = world.api.sequence(as_="write")  # another token: another bucket
        sell.list_sequences()
        sell.list_sequences()
        created = sell.create_enrollment(sequence_id, "lead", 5)  # refused once, then made
        assert clock.waits == [1.0]  # the server's Retry-After: 1
        statuses = [r.method for r in world.recorder.requests]
        assert statuses == ["GET", "GET", "POST", "POST"]
        assert [e.id for e in sell.iter_enrollments()] == [created.id]  # made once
        assert clock.waits == [1.0, 1.0]


def test_429_gives_up_after_max_retries(worlds):
    clock = FakeMonotonic()
    world = worlds(rate_limit=RateLimit(limit=1, period=60, burst=1), rate_clock=clock)
    waits: list[float] = []
    with world.client(sleep=waits.append, max_retries=2) as sell:
        sell.list_sequences()
        with pytest.raises(SellRateLimited) as caught:
            sell.list_sequences()
    assert waits == [60.0, 60.0]  # slept twice (never for real), then gave up
    error = caught.value
    assert (error.http_status, error.code, error.retry_after) == (429, "rate_limit_exceeded",
                                                                  60.0)


def test_a_retry_after_longer_than_max_wait_is_raised_at_once(worlds):
    clock = FakeMonotonic()
    world = worlds(rate_limit=RateLimit(limit=1, period=3600, burst=1), rate_clock=clock)
    with world.client(sleep=clock.sleep, max_wait=600) as sell:
        sell.list_sequences()
        with pytest.raises(SellRateLimited) as caught:
            sell.list_sequences()
    assert clock.waits == [] and caught.value.retry_after == 3600.0
