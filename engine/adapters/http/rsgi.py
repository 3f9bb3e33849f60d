"""The WSGI app served over granian's RSGI interface: bodies read on the event loop.

Under WSGI granian runs a request on a blocking thread from its headers to its
response, and a body that stalls holds that thread past its 408 (body.py), so
the protection against slow clients is hundreds of threads, and busy threads
contend for the GIL (docs/http.md, Blocking threads). Here the body is awaited
on granian's event loop within the request timeout, so a stalled body holds a
coroutine, not a thread. The app is then called on the loop's thread with the
body in memory as its `wsgi.input` and body.BUFFERED set (the app's BodyReader
reads it inline, with no hand-over to a reader thread), or with BUFFERED False
if it did not arrive in time (the app answers its 408). One request runs in the app at a time per
worker process, as with `--blocking-threads 1`.

The environ is the one granian's WSGI interface builds (granian 2.8,
src/wsgi/callbacks.rs and granian/wsgi.py), so the app answers byte for byte as
it does there (tests/e2e/test_e2e_interfaces.py), but for two things no route
sees: bodies the app refuses unread (no JSON Content-Type, a Content-Length over
1 MiB) are not read here either, and percent-escapes in the path that are not
UTF-8 arrive as U+FFFD (RSGI decodes the path; WSGI passes its bytes), which
matches no route either way.
"""

import asyncio
import io
import os
import sys
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any

from engine.adapters.http.body import BUFFERED, MAX_BODY, is_json

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
FACTORY, TIMEOUT = "SEQENGINE_RSGI_FACTORY", "SEQENGINE_RSGI_TIMEOUT"  # for app_from_factory


class RsgiAdapter:
    """An RSGI app (granian's `__rsgi__`) that runs a WSGI app."""

    def __init__(self, app: WsgiApp, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError("an RSGI adapter needs timeout > 0")
        self.app, self.timeout = app, timeout

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        environ = wsgi_environ(scope)
        if _body_to_read(environ):
            whole = "CONTENT_LENGTH" in environ  # else chunked: read up to the limit
            try:
                body = await asyncio.wait_for(
                    proto() if whole else _read_chunks(proto), self.timeout)
            except TimeoutError:
                environ[BUFFERED] = False
            else:
                environ["wsgi.input"], environ[BUFFERED] = io.BytesIO(body), True
        status: list[Any] = []

        def start_response(line: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> None:
            status[:] = [int(line[:3]), headers]

        answer = self.app(environ, start_response)
        try:
            data = b"".join(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        proto.response_bytes(status[0], status[1], data)


def wsgi_environ(scope: Any) -> dict[str, Any]:
    server, _, server_port = scope.server.rpartition(":")
    client = scope.client.rpartition(":")[0]
    environ: dict[str, Any] = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "Granian",
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1" if scope.http_version == "1" else f"HTTP/{scope.http_version}",
        "SERVER_NAME": server.strip("[]"),
        "SERVER_PORT": server_port,
        "REMOTE_ADDR": client.strip("[]"),
        "REQUEST_METHOD": scope.method,
        # WSGI's PATH_INFO: the percent-decoded bytes as latin-1 (RSGI's path is UTF-8)
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.input_terminated": True,
        "wsgi.multiprocess": False,
        "wsgi.multithread": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    headers = scope.headers
    for name in dict.fromkeys(headers.keys()):
        value = ",".join(headers.get_all(name))
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length":
            environ["CONTENT_LENGTH"] = value
        else:
            environ["HTTP_" + name.replace("-", "_").upper()] = value
    if "HTTP_HOST" not in environ:
        environ["HTTP_HOST"] = scope.authority or ""
    return environ


def _body_to_read(environ: dict[str, Any]) -> bool:
    """A body the app would read: JSON, declared by its length (up to 1 MiB) or chunked."""
    if not is_json(environ.get("CONTENT_TYPE", "")):
        return False
    length = environ.get("CONTENT_LENGTH")
    if length is None:
        return "HTTP_TRANSFER_ENCODING" in environ
    return length.isdigit() and 0 < int(length) <= MAX_BODY


async def _read_chunks(proto: Any) -> bytes:
    """A chunked body whole, or its first MAX_BODY + 1 bytes or so (the app answers 413)."""
    chunks, size = [], 0
    async for chunk in proto:
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            break
    return b"".join(chunks)


def app_from_factory() -> RsgiAdapter:
    """granian's factory for `serve(..., interface="rsgi")`: the WSGI app its factory
    (module:function, in FACTORY) builds, adapted, with the request timeout."""
    module, _, name = os.environ[FACTORY].partition(":")
    return RsgiAdapter(getattr(import_module(module), name)(), float(os.environ[TIMEOUT]))
