"""Running the app: granian, WSGI interface, one or more worker processes.

`serve("package.module:factory", host=..., port=...)` blocks until the server is
stopped. granian imports the factory in its worker process and calls it there, so
the factory (the composition root's, e.g. the `serve` command's) builds the store,
the engine, a scheduler thread if any (sharing one `EngineGuard` with the app) and
returns `create_app(...)`; with `workers` > 1 each worker process builds its own,
so they share nothing but the database.

Threads: granian runs each request on a blocking thread from the moment its
headers are in, and grows that pool on demand up to `blocking_threads`. The
default ceiling is high so that clients stalling in the middle of a body (each
holds a thread until it sends the rest or goes away, past the app's 408,
engine.adapters.http.body) cannot starve everyone else. A low ceiling is faster
(every busy thread contends for the GIL; one or two threads gave the best rps
and p99, docs/http.md "Blocking threads") but only safe behind a proxy that
buffers whole request bodies. Headers must arrive within the same deadline
(granian's HTTP/1 header read timeout), and granian refuses a request line or
header block over its buffer itself (docs/http.md).
"""

import logging
import socket
from pathlib import Path

from engine.adapters.http.body import DEFAULT_MAX_READERS

DEFAULT_BLOCKING_THREADS = 512
MAX_BLOCKING_THREADS = DEFAULT_MAX_READERS  # a reader for every thread a stalled body holds
DEFAULT_REQUEST_TIMEOUT = 10.0
MAX_REQUEST_TIMEOUT = 60.0  # granian's ceiling for the header read timeout
# granian's loggers without its own handlers: its lines reach the root logger's format;
# its start-up note that 512 threads is many is dropped: they are created on demand
GRANIAN_LOGGING = {
    "handlers": {},
    "filters": {"lazy_threads": {"()": "engine.adapters.http.server.LazyThreadsNote"}},
    "loggers": {"_granian": {"handlers": [], "propagate": True, "filters": ["lazy_threads"]}},
}


class LazyThreadsNote(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads, which seems quite high" not in record.getMessage()


def check_port_free(host: str, port: int) -> None:
    """OSError if something already listens on host:port. granian binds with
    SO_REUSEPORT, which would let a second server share a busy port silently; this
    plain bind (no SO_REUSEPORT) fails instead."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        probe.bind(address)


def serve(
    factory: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    blocking_threads: int = DEFAULT_BLOCKING_THREADS,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    working_dir: Path | None = None,
    access_log: bool = False,
    log_level: str = "warning",
) -> None:
    """`log_level`: granian's own lines go to the `_granian` logger at that level, and
    propagate to whatever the caller set up (engine.runtime.logs)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    if not 0 < request_timeout <= MAX_REQUEST_TIMEOUT:
        raise ValueError(f"the request timeout must be above 0 and at most "
                         f"{MAX_REQUEST_TIMEOUT:g} s")
    if not 1 <= blocking_threads <= MAX_BLOCKING_THREADS:
        raise ValueError(f"blocking_threads must be from 1 to {MAX_BLOCKING_THREADS}")
    Server(
        factory,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        websockets=False,  # WSGI has none (else granian logs that it ignores them)
        workers=workers,
        blocking_threads=blocking_threads,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, round(request_timeout * 1000))),
        factory=True,
        working_dir=working_dir,
        log_level=LogLevels(log_level),
        log_dictconfig=GRANIAN_LOGGING,
        log_access=access_log,
    ).serve()
