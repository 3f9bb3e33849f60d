"""The Sell client's errors: one tree under EngineError (house rule 5).

Every error of a Sell answer keeps what the Sell error envelope said: each
error's `code`, `message`, `field` (a JSON pointer), `details` and `resource`,
plus the HTTP status, the `logref` and the `X-Request-Id` header. The first
error's fields are also on the exception itself, as the common case has one.

`status` (what our own server would answer if one of these ever escaped into a
request handler) is 502 for all of them: a failed call to Sell is a bad gateway
from our side, whatever Sell answered. Sell's own status is `http_status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from engine.errors import EngineError, ErrorDetail

__all__ = [
    "SellApiError",
    "SellAuthError",
    "SellBadRequest",
    "SellError",
    "SellErrorDetail",
    "SellNotFound",
    "SellRateLimited",
    "SellResponseError",
    "SellServerError",
    "SellTransportError",
    "SellValidationError",
]


@dataclass(frozen=True, slots=True)
class SellErrorDetail(ErrorDetail):
    """One `{"error": {...}}` item of a Sell error envelope."""

    resource: str | None = None


class SellError(EngineError):
    """Anything the Sell client raises on purpose."""

    status, code = 502, "sell_error"


class SellTransportError(SellError):
    """No answer: the connection failed, timed out or broke (after any retries)."""

    code = "sell_unreachable"

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method, self.url = method, url


class SellResponseError(SellError):
    """An answer that is not the Sell document the operation expects."""

    code = "sell_bad_response"


class SellApiError(SellError):
    """Sell answered with a non-2xx status; subclasses by status."""

    http_statuses: ClassVar[tuple[int, ...]] = ()
    errors: tuple[SellErrorDetail, ...]

    def __init__(
        self,
        http_status: int,
        errors: tuple[SellErrorDetail, ...],
        *,
        logref: str | None = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
    ) -> None:
        if not errors:
            errors = (SellErrorDetail(f"http_{http_status}", f"HTTP {http_status}"),)
        first = errors[0]
        super().__init__(first.message, field=first.field, details=first.details,
                         resource=first.resource)
        self.errors = errors
        self.http_status = http_status
        self.code = first.code  # Sell's code, e.g. "not_found", shadows the class's
        self.field, self.details = first.field, first.details
        self.logref, self.request_id = logref, request_id
        self.method, self.url = method, url

    def __str__(self) -> str:
        parts = []
        for error in self.errors:
            at = f" at {error.field}" if error.field else ""
            parts.append(f"{error.code}{at}: {error.message}")
        where = f" ({self.method} {self.url})" if self.method else ""
        ref = f" [logref {self.logref}]" if self.logref else ""
        return f"Sell answered {self.http_status}{where}: " + "; ".join(parts) + ref


class SellBadRequest(SellApiError):
    """400: `invalid_payload` or `invalid_param` (the field is the parameter's name)."""

    http_statuses = (400,)


class SellAuthError(SellApiError):
    """401 (`unauthorized`: bad or revoked token) or 403 (scope, no Reach)."""

    http_statuses = (401, 403)


class SellNotFound(SellApiError):
    http_statuses = (404,)


class SellValidationError(SellApiError):
    """422: every bad field of the request, one SellErrorDetail each, in `errors`."""

    http_statuses = (422,)


class SellRateLimited(SellApiError):
    """429 after the client's retries ran out (or a wait longer than it may sleep)."""

    http_statuses = (429,)
    retry_after: float | None = None  # seconds, from the last answer's Retry-After


class SellServerError(SellApiError):
    """5xx."""

    http_statuses = (500, 502, 503, 504)


BY_STATUS: dict[int, type[SellApiError]] = {
    status: kind
    for kind in (SellBadRequest, SellAuthError, SellNotFound, SellValidationError,
                 SellRateLimited, SellServerError)
    for status in kind.http_statuses
}


def error_class(http_status: int) -> type[SellApiError]:
    if http_status >= 500:
        return SellServerError
    return BY_STATUS.get(http_status, SellApiError)
