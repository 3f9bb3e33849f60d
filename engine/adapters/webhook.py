"""The webhook deliveries: POST each email send, or each task creation, to the host
backend (http-api.md section 6).

The body is one JSON object; the idempotency key also travels in an
`Idempotency-Key` header, and with a shared secret the body is signed
(`X-Seqengine-Signature: sha256=<hex HMAC-SHA256>`). `lease_expires_at` is when
the sending worker's lease runs out: a receiver should refuse a delivery that
arrives later (another worker may own it by then), and de-duplicate by key. A
timeout, a connection error, a 408/429 or a 5xx is transient (retried with backoff).

- Email (`WebhookDelivery`): a 2xx reply says `{"status": "sent"}` or
  `{"status": "failed", "failure_reason": ...}`; another 4xx blocks with `unknown`.
- Task (`TaskWebhookDelivery`, `--task-delivery webhook:URL`): a 2xx reply gives the
  host's task id, `{"task_id": N}` (for a repeated key, the task made the first
  time). A task step has no failed state, so any other reply is retried too.
"""

import hashlib
import hmac
from datetime import datetime

import httpx
import orjson

from engine.app.ports import SENT, SendRequest, SendResult, TaskCreated, TaskRequest
from engine.domain.enums import FailureReason
from engine.errors import DeliveryError
from engine.wire.render import format_instant

TRANSIENT_STATUSES = frozenset({408, 429})
MAX_TASK_ID = 2**63 - 1


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _Webhook:
    def __init__(self, url: str, secret: str | None = None, *, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a webhook URL must start with http:// or https://, not {url!r}")
        self.url, self.secret = url, secret
        self.client = httpx.Client(timeout=timeout, transport=transport)

    def _post(self, key: str, document: dict[str, object]) -> httpx.Response:
        """POST signed; a transient answer raises DeliveryError."""
        body = orjson.dumps(document)
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if self.secret:
            headers["X-Seqengine-Signature"] = sign(self.secret, body)
        try:
            reply = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"webhook unreachable: {error}") from error
        if reply.status_code >= 500 or reply.status_code in TRANSIENT_STATUSES:
            raise DeliveryError(f"webhook answered {reply.status_code}")
        return reply

    def close(self) -> None:
        self.client.close()


def _about(request: SendRequest | TaskRequest) -> dict[str, object]:
    """The fields every delivery's body starts with, in this order."""
    return {
        "idempotency_key": request.idempotency_key,
        "account_id": request.account_id,
        "enrollment_id": request.enrollment_id,
        "position": request.position,
        "actor_id": request.actor_id,
        "resource_type": str(request.resource_type),
        "resource_id": request.resource_id,
    }


class WebhookDelivery(_Webhook):
    """The EmailDelivery port over HTTP."""

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        reply = self._post(request.idempotency_key, {
            **_about(request),
            "email_template_id": request.email_template_id,
            "is_reply": request.is_reply,
            "lease_expires_at": format_instant(request.lease_expires_at),
        })
        if not reply.is_success:
            return SendResult(False, FailureReason.UNKNOWN)
        return _send_outcome(reply.content)


class TaskWebhookDelivery(_Webhook):
    """The TaskDelivery port over HTTP."""

    def create(self, request: TaskRequest, now: datetime) -> TaskCreated:
        reply = self._post(request.idempotency_key, {
            **_about(request),
            "content": request.content,
            "due_date": format_instant(request.due_date),
            "lease_expires_at": format_instant(request.lease_expires_at),
        })
        if not reply.is_success:
            raise DeliveryError(f"task webhook answered {reply.status_code}")
        return TaskCreated(_task_id(reply.content))


def _send_outcome(content: bytes) -> SendResult:
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


def _task_id(content: bytes) -> int:
    try:
        answer = orjson.loads(content)
    except orjson.JSONDecodeError:
        answer = None
    task_id = answer.get("task_id") if isinstance(answer, dict) else None
    if type(task_id) is not int or not 1 <= task_id <= MAX_TASK_ID:
        raise DeliveryError('the task webhook must answer {"task_id": <positive integer>}')
    return task_id
