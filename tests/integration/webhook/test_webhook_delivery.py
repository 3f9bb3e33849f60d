"""The webhook delivery against a real HTTP receiver on 127.0.0.1."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.adapters.webhook import WebhookDelivery, sign
from engine.app.ports import SendRequest
from engine.domain.enums import FailureReason, ResourceType
from engine.errors import DeliveryError
from tests.integration.receiver import receiving

LEASE_END = datetime(2026, 11, 23, 9, 5, 0, 250000, tzinfo=UTC)
REQUEST = SendRequest("7:0:0", 1, 7, 0, 3, ResourceType.LEAD, 99, 9606, False, LEASE_END)


class Receiver:
    def __init__(self) -> None:
        self.replies: list[tuple[int, bytes]] = []
        self.seen: list[tuple[dict[str, str], dict[str, Any], bytes]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    def answer(headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        state.seen.append((headers, json.loads(body), body))
        return state.replies.pop(0) if state.replies else (200, b'{"status":"sent"}')

    with receiving(answer) as url:
        yield state, url


def test_a_sent_reply_completes_and_the_body_is_signed(receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    delivery = WebhookDelivery(url, "s3cret")
    try:
        assert delivery.send(REQUEST, None).sent  # type: ignore[arg-type]
    finally:
        delivery.close()
    headers, payload, raw = state.seen[0]
    assert payload == {"idempotency_key": "7:0:0", "account_id": 1, "enrollment_id": 7,
                       "position": 0, "actor_id": 3, "resource_type": "lead", "resource_id": 99,
                       "email_template_id": 9606, "is_reply": False,
                       "lease_expires_at": "2026-11-23T09:05:00.250Z"}
    assert headers["Idempotency-Key"] == "7:0:0"
    assert headers["X-Seqengine-Signature"] == sign("s3cret", raw)


def test_failed_replies_block_with_their_reason(receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    state.replies = [(200, b'{"status":"failed","failure_reason":"auth"}'),
                     (200, b'{"status":"failed","failure_reason":"nonsense"}'),
                     (400, b"no")]
    delivery = WebhookDelivery(url)
    try:
        outcomes = [delivery.send(REQUEST, None) for _ in range(3)]  # type: ignore[arg-type]
    finally:
        delivery.close()
    assert [o.failure_reason for o in outcomes] == [
        FailureReason.AUTH, FailureReason.UNKNOWN, FailureReason.UNKNOWN]
    assert "X-Seqengine-Signature" not in state.seen[0][0]


def test_5xx_429_and_unreachable_are_transient(receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    state.replies = [(503, b""), (429, b"")]
    delivery = WebhookDelivery(url)
    try:
        for _ in range(2):
            with pytest.raises(DeliveryError):
                delivery.send(REQUEST, None)  # type: ignore[arg-type]
    finally:
        delivery.close()
    closed = WebhookDelivery("http://127.0.0.1:9/nothing-listens-here", timeout=2)
    try:
        with pytest.raises(DeliveryError):
            closed.send(REQUEST, None)  # type: ignore[arg-type]
    finally:
        closed.close()


def test_a_bad_url_is_refused() -> None:
    with pytest.raises(ValueError, match="http://"):
        WebhookDelivery("ftp://example")
