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
        if not self.logger.isEnabledFor(logging.INFO):
            return
        started = getattr(req.context, "access_started", None)
        duration = round((self.timer() - started) * 1000, 3) if started is not None else None
        status = int(str(resp.status).split(" ", 1)[0])
        self.logger.info(
            "request",
            extra={"method": req.method, "path": req.path, "status": status,
                   "duration_ms": duration, "request_id": request_id(req)},
        )
