"""One log line per request: method, path, status, duration and request id.

A Falcon middleware, first in the chain so that it times everything the others do;
its process_response runs last, when the status (also of errors) is final.
"""

import logging
import time
from collections.abc import Callable

import falcon

from engine.adapters.http.responses import request_id

ACCESS_LOGGER = "seqengine.http.access"


class AccessLog:
    def __init__(
        self,
        logger: logging.Logger | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self.timer = timer

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.access_started = self.timer()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if not self.enabled():
            return
        self.write(req.method, req.path, int(str(resp.status).split(" ", 1)[0]),
                   getattr(req.context, "access_started", None), request_id(req))

    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def write(self, method: str, path: str, status: int, started: float | None,
              request_id: str) -> None:
        """The line of one request (also of one that GET one's fast path answered,
        engine/adapters/http/fast_get.py); `started` is the timer's reading at its start."""
        duration = round((self.timer() - started) * 1000, 3) if started is not None else None
        self.logger.info(
            "request",
            extra={"method": method, "path": path, "status": status,
                   "duration_ms": duration, "request_id": request_id},
        )
