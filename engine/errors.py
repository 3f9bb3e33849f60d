"""One error tree. Every error raised on purpose derives from EngineError and
carries what the Sell error envelope needs: an HTTP status, and one or more
(code, message, field) details reported together."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    code: str
    message: str
    field: str | None = None  # JSON pointer into the request, e.g. "/data/resource_type"
    details: str | None = None


class EngineError(Exception):
    status: int = 500
    code: str = "server_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: str | None = None,
        resource: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.resource = resource
        self.errors: tuple[ErrorDetail, ...] = (ErrorDetail(self.code, message, field, details),)


class InvalidPayload(EngineError):
    status, code = 400, "invalid_payload"


class InvalidParam(EngineError):
    status, code = 400, "invalid_param"


class Unauthorized(EngineError):
    status, code = 401, "unauthorized"


class InsufficientScope(EngineError):
    status, code = 403, "insufficient_scope"


class ReachRequired(EngineError):
    status, code = 403, "forbidden"


class NotFound(EngineError):
    status, code = 404, "not_found"

    def __init__(self, resource: str, object_id: object) -> None:
        super().__init__(f"{resource} {object_id} not found", resource=resource)


class MethodNotAllowed(EngineError):
    status, code = 405, "method_not_allowed"


class RequestTimeout(EngineError):
    status, code = 408, "request_timeout"


class PayloadTooLarge(EngineError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(EngineError):
    status, code = 415, "unsupported_media_type"


class ClockNotSimulated(EngineError):
    status, code = 409, "conflict"


class RateLimited(EngineError):
    status, code = 429, "rate_limit_exceeded"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ValidationFailed(EngineError):
    """Resource errors (422): every bad field of one request, reported together."""

    status, code = 422, "incorrect_value"

    def __init__(self, errors: list[ErrorDetail], resource: str | None = None) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one error")
        super().__init__("; ".join(e.message for e in errors), resource=resource)
        self.errors = tuple(errors)


class AlreadyExists(ValidationFailed):
    def __init__(self, message: str, field: str | None = None, resource: str | None = None):
        super().__init__([ErrorDetail("already_exists", message, field)], resource=resource)


class TransitionRefused(ValidationFailed):
    """A lifecycle transition that is not allowed from the current state."""

    def __init__(self, machine: str, state: str, trigger: str, allowed: tuple[str, ...]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none (terminal state)"
        message = (
            f"{machine} cannot {trigger.replace('_', ' ')} from state '{state}'; "
            f"allowed next states: {allowed_text}"
        )
        super().__init__([ErrorDetail("incorrect_value", message, "/data/state")])
        self.machine, self.state, self.trigger, self.allowed = machine, state, trigger, allowed


class DeliveryError(EngineError):
    """A transient delivery failure (timeout, connection error, 5xx): retried with backoff."""

    status, code = 502, "delivery_error"
