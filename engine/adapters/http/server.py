"""Running the app: granian, WSGI interface, one worker process.

`serve("package.module:factory", host=..., port=...)` blocks until the server is
stopped. granian imports the factory in its worker process and calls it there, so
the factory (the composition root's, e.g. the `serve` command's) builds the store,
the engine, a scheduler thread if any (sharing one `EngineGuard` with the app) and
returns `create_app(...)`. Four blocking threads: measured on SQLite, more threads
only lengthen the tail (p99) without adding throughput (docs/http.md).
"""

from pathlib import Path

DEFAULT_BLOCKING_THREADS = 4
# granian's loggers without its own handlers: its lines reach the root logger's format
GRANIAN_LOGGING = {
    "handlers": {},
    "loggers": {"_granian": {"handlers": [], "propagate": True}},
}


def serve(
    factory: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    blocking_threads: int = DEFAULT_BLOCKING_THREADS,
    working_dir: Path | None = None,
    access_log: bool = False,
    log_level: str = "warning",
) -> None:
    """`log_level`: granian's own lines go to the `_granian` logger at that level, and
    propagate to whatever the caller set up (engine.runtime.logs)."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        factory,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        websockets=False,  # WSGI has none (else granian logs that it ignores them)
        workers=1,
        blocking_threads=blocking_threads,
        factory=True,
        working_dir=working_dir,
        log_level=LogLevels(log_level),
        log_dictconfig=GRANIAN_LOGGING,
        log_access=access_log,
    ).serve()
