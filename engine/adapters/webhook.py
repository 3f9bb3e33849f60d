"""The webhook delivery: POSTs each send to the host backend (http-api.md section 6).

The body is one JSON object; the idempotency key also travels in an
`Idempotency-Key` header, and with a shared secret the body is signed
(`X-Seqengine-Signature: sha256=<hex HMAC-SHA256>`). `lease_expires_at` is when
the sending worker's lease runs out: a receiver should refuse a send that
arrives later (another worker may own it by then), and de-duplicate by key. A 2xx reply says
`{"status": "sent"}` or `{"status": "failed", "failure_reason": ...}`; a timeout,
a connection error, a 408/429 or a 5xx is transient (retried with backoff).
"""

import hashlib
import hmac
from datetime import datetime

import httpx
import orjson

from engine.app.ports import SENT, SendRequest, SendResult
from engine.domain.enums import FailureReason
from engine.errors import DeliveryError
from engine.wire.render import format_instant

TRANSIENT_STATUSES = frozenset({408, 429})


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDelivery:
    def __init__(self, url: str, secret: str | None = None, *, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a webhook URL must start with http:// or https://, not {url!r}")
        self.url, self.secret = url, secret
        self.client = httpx.Client(timeout=timeout, transport=transport)

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        body = orjson.dumps({
            "idempotency_key": request.idempotency_key,
            "account_id": request.account_id,
            "enrollment_id": request.enrollment_id,
            "position": request.position,
            "actor_id": request.actor_id,
            "resource_type": str(request.resource_type),
            "resource_id": request.resource_id,
            "email_template_id": request.email_template_id,
            "is_reply": request.is_reply,
            "lease_expires_at": format_instant(request.lease_expires_at),
        })
        headers = {"Content-Type": "application/json",
                   "Idempotency-Key": request.idempotency_key}
        if self.secret:
            headers["X-Seqengine-Signature"] = sign(self.secret, body)
        try:
            reply = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook unreachable: {error}") from error
        if reply.status_code >= 500 or reply.status_code in TRANSIENT_STATUSES:
            raise DeliveryError(f"webhook answered {reply.status_code}")
        if not reply.is_success:
            return SendResult(False, FailureReason.UNKNOWN)
        return _outcome(reply.content)

    def close(self) -> None:
        self.client.close()


def _outcome(content: bytes) -> SendResult:
    try:
        answer = orjson.loads(content)
    except orjson.JSONDecodeError:
        return SendResult(False, FailureReason.UNKNOWN)
    if not isinstance(answer, dict):
        return SendResult(False, FailureReason.UNKNOWN)
    if answer.get("status") == "sent":
        return SENT
    reason = answer.get("failure_reason")
    known = {r.value for r in FailureReason}
    return SendResult(False, FailureReason(reason) if reason in known else FailureReason.UNKNOWN)
