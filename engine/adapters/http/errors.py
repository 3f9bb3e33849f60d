"""Every non-2xx answer in the Sell error envelope, the framework's own included.

Errors raised on purpose are `EngineError`s and carry their status, code and
details. Falcon's own (unknown route, wrong method, its request checks) are
translated into the same shape, and anything unexpected becomes a bare 500
`server_error`: the traceback goes to the log, never to the client.
"""

import logging
from collections.abc import Mapping
from typing import Any

import falcon

from engine.adapters.http.auth import AuthFailed
from engine.adapters.http.body import BodyTimedOut
from engine.adapters.http.responses import JSON_TYPE, request_id
from engine.errors import EngineError, MethodNotAllowed, NotFound, RateLimited, RequestTimeout
from engine.wire.render import error_document

log = logging.getLogger("seqengine.http")


class HttpFailure(EngineError):
    """A framework error seen through the engine's error tree."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code = status, code
        super().__init__(message)


class RouteNotFound(NotFound):
    def __init__(self, path: str) -> None:
        EngineError.__init__(self, f"no route matches {path}")


class UnknownMethod(MethodNotAllowed):
    """A method Falcon does not route at all (it would answer 400)."""

    def __init__(self, method: str, path: str, allow: str) -> None:
        super().__init__(f"{method} is not allowed on {path}")
        self.allow = allow


def send_error(req: falcon.Request, resp: falcon.Response, error: EngineError) -> None:
    logref = request_id(req)
    # set again: Falcon refuses some requests before the gate has run
    resp.set_header("X-Request-Id", logref)
    resp.set_header("Content-Language", "en")
    resp.status = error.status
    resp.content_type = JSON_TYPE
    resp.data = error_document(error, logref)
    if isinstance(error, AuthFailed):
        resp.set_header("WWW-Authenticate", error.challenge)
    elif isinstance(error, UnknownMethod):
        resp.set_header("Allow", error.allow)
    elif isinstance(error, RateLimited):
        resp.set_header("Retry-After", str(error.retry_after))
    elif isinstance(error, RequestTimeout):
        resp.set_header("Connection", "close")
        if isinstance(error, BodyTimedOut):
            answer, resp.data = resp.data or b"", None
            resp.content_length = len(answer)
            resp.stream = error.then_wait(answer)


def engine_error(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
    assert isinstance(ex, EngineError)
    send_error(req, resp, ex)


def framework_error(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any
) -> None:
    assert isinstance(ex, falcon.HTTPError)
    status = ex.status_code
    error: EngineError
    if status == 404:
        error = RouteNotFound(req.path)
    elif status == 405:
        error = MethodNotAllowed(f"{req.method} is not allowed on {req.path}")
        given = ex.headers or {}
        for name, value in given.items() if isinstance(given, Mapping) else given:
            if name.lower() == "allow":
                resp.set_header("Allow", value)
    elif status == 400:
        error = HttpFailure(400, "invalid_payload", ex.title or "bad request")
    else:
        code = "server_error" if status >= 500 else "invalid_request"
        error = HttpFailure(status, code, ex.title or "request refused")
    send_error(req, resp, error)


def unexpected_error(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any
) -> None:
    log.exception("unhandled error on %s %s (request %s)", req.method, req.path,
                  request_id(req), exc_info=ex)
    send_error(req, resp, HttpFailure(500, "server_error", "internal server error"))


def install(app: "falcon.App[falcon.Request, falcon.Response]") -> None:
    # Falcon picks the most specific handler by the exception's MRO.
    app.add_error_handler(Exception, unexpected_error)
    app.add_error_handler(falcon.HTTPError, framework_error)
    app.add_error_handler(EngineError, engine_error)
