"""One call to Sell: the request, its retries, and the answer or a typed error.

What is retried, and why it is safe:
- 429: always. The request was refused before anything happened (http-api.md:
  a refused request changes nothing). The wait is the answer's `Retry-After`
  (delta-seconds, or an HTTP date measured against the answer's own `Date`, so
  no local clock is read); without one, the backoff.
- A connection that could not be made (connect error or connect timeout):
  always, with the backoff. Nothing reached the server.
- 502/503/504, read/write timeouts and broken connections: only for a request
  that may be repeated (`repeatable`: GET; PUT, which sets a state or fields,
  and asking for the current state again succeeds; a POST carrying an
  Idempotency-Key), since the server may have acted on it. Not DELETE: a repeat
  after a lost answer would report 404 for a delete that worked. `Retry-After`
  is honoured there too.
After `max_retries` retries the last failure is raised as its typed error; a
`Retry-After` longer than `max_wait` is not slept at all but raised at once.
Every wait goes through the injected `sleep`, so tests never sleep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from engine.adapters.sell.errors import (
    SellApiError,
    SellErrorDetail,
    SellRateLimited,
    SellResponseError,
    SellTransportError,
    error_class,
)

__all__ = ["Exchange", "RetryPolicy", "api_error", "retry_after"]

CONNECT_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout)
RETRY_WHEN_REPEATABLE = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    backoff: float = 0.5  # the first wait without Retry-After; it doubles on each retry
    max_backoff: float = 30.0
    max_wait: float = 300.0  # a longer Retry-After is raised, not slept

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff < 0 or self.max_wait < 0:
            raise ValueError("max_retries, backoff and max_wait must not be negative")

    def backoff_for(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))


class Exchange:
    def __init__(
        self, http: httpx.Client, policy: RetryPolicy, sleep: Callable[[float], None]
    ) -> None:
        self.http, self.policy, self.sleep = http, policy, sleep

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = False,
    ) -> httpx.Response:
        """The 2xx answer to `method path`, after any retries; else a SellError."""
        content = None
        sent = dict(headers or {})
        if body is not None:
            content = orjson.dumps({"data": body})
            sent["Content-Type"] = "application/json"
        attempt = 0
        while True:
            try:
                response = self.http.request(method, path, params=params, content=content,
                                             headers=sent)
            except httpx.TransportError as error:
                again = isinstance(error, CONNECT_FAILURES) or repeatable
                if not again or attempt >= self.policy.max_retries:
                    url = str(self.http.build_request(method, path, params=params).url)
                    raise SellTransportError(
                        f"{method} {url} failed after {attempt + 1} attempt(s): "
                        f"{type(error).__name__}: {error}", method=method, url=url,
                    ) from error
                wait = self.policy.backoff_for(attempt)
            else:
                if response.is_success:
                    return response
                found = self._wait(response, attempt, repeatable)
                if found is None:
                    raise api_error(response)
                wait = found
            self.sleep(wait)
            attempt += 1

    def _wait(self, response: httpx.Response, attempt: int, repeatable: bool) -> float | None:
        """How long to wait before retrying this failed answer; None: do not retry."""
        status = response.status_code
        if status != 429 and not (repeatable and status in RETRY_WHEN_REPEATABLE):
            return None
        if attempt >= self.policy.max_retries:
            return None
        after = retry_after(response)
        wait = after if after is not None else self.policy.backoff_for(attempt)
        return wait if wait <= self.policy.max_wait else None


def json_of(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise SellResponseError(
            f"unexpected Sell response to {response.request.method} {response.request.url}: "
            f"the body is not JSON ({error})"
        ) from None


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds: delta-seconds, or an HTTP date less the answer's `Date`."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value)
                       - parsedate_to_datetime(response.headers["Date"])).total_seconds()
        except (KeyError, TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def api_error(response: httpx.Response) -> SellApiError:
    """The typed error of a non-2xx answer, with every error of its Sell envelope."""
    status = response.status_code
    details: list[SellErrorDetail] = []
    logref = None
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        document = None
    if isinstance(document, dict):
        listed = document.get("errors")
        for item in listed if isinstance(listed, list) else ():
            error = item.get("error") if isinstance(item, dict) else None
            if isinstance(error, dict):
                details.append(SellErrorDetail(
                    code=str(error.get("code") or f"http_{status}"),
                    message=str(error.get("message") or ""),
                    field=_text(error.get("field")),
                    details=_text(error.get("details")),
                    resource=_text(error.get("resource")),
                ))
        meta = document.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("logref"), str):
            logref = meta["logref"]
    if not details:  # not a Sell envelope (a proxy's page, say): keep what there is
        excerpt = response.content[:200].decode("utf-8", "replace") or None
        details.append(SellErrorDetail(f"http_{status}", response.reason_phrase or "",
                                       details=excerpt))
    request = response.request
    kind = error_class(status)
    found = kind(status, tuple(details), logref=logref,
                 request_id=response.headers.get("X-Request-Id"),
                 method=request.method, url=str(request.url))
    if isinstance(found, SellRateLimited):
        found.retry_after = retry_after(response)
    return found
