"""Reading a request body: JSON only, at most 1 MiB, within a deadline.

granian hands a WSGI app the request as soon as its headers are in; the body is
read from the socket only when the app reads `wsgi.input`, which blocks the
calling thread, and granian never times a body out (its issue #728). A client
that declares `Content-Length: 1000` and sends 12 bytes would hold a request
thread for as long as it keeps the connection open. So the read runs on a reader
thread and the request thread waits for it at most `timeout` seconds: a client
that has not sent its whole body by then is answered 408 `request_timeout` at
once. The request itself must not end while its reader still waits on the body
(granian then blocks every Python thread until the client goes away, measured),
so the 408 goes out as a streamed response whose last step waits for the reader:
the client has its whole answer, and the request thread is released when the
client closes the connection or sends the rest. granian grows its thread pool on
demand (engine.adapters.http.server), so stalled clients hold threads of their
own, not everyone's. Measured cost of the hand-over: ~19 µs a request with a
body (docs/http.md).
"""

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as ReadTimedOut

import falcon

from engine.errors import InvalidPayload, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

MAX_BODY = 1 << 20  # 1 MiB: far above any real request of this API
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_READERS = 1024


def is_json(content_type: str) -> bool:
    """`application/json`, any case, with or without parameters (`; charset=utf-8`)."""
    return content_type.partition(";")[0].strip().lower() == "application/json"


class BodyTimedOut(RequestTimeout):
    """408; `then_wait` streams the answer and then waits for the abandoned read."""

    def __init__(self, timeout: float, pending: "Future[bytes]") -> None:
        super().__init__(f"the request body did not arrive within {timeout:g} s")
        self.pending = pending

    def then_wait(self, answer: bytes) -> Iterator[bytes]:
        yield answer
        self.pending.exception()  # returns once the client sent the rest or went away


class BodyReader:
    def __init__(self, timeout: float = DEFAULT_TIMEOUT,
                 max_readers: int = DEFAULT_MAX_READERS) -> None:
        if timeout <= 0 or max_readers < 1:
            raise ValueError("a body reader needs timeout > 0 and max_readers >= 1")
        self.timeout = timeout
        self._readers = ThreadPoolExecutor(max_readers, thread_name_prefix="seqengine-body")

    def read(self, req: falcon.Request) -> bytes:
        length = req.content_length
        chunked = req.get_header("Transfer-Encoding") is not None
        if not length and not chunked:
            return b""  # no body: the parser says what is missing
        if not is_json(req.content_type or ""):
            raise UnsupportedMediaType(
                "the request body must be JSON (Content-Type: application/json)",
                details=f"got {req.content_type!r}" if req.content_type else "no Content-Type")
        if length is not None and length > MAX_BODY:
            raise PayloadTooLarge(f"the request body is larger than {MAX_BODY} bytes (1 MiB)",
                                  details=f"Content-Length: {length}")
        wanted = length if length is not None else MAX_BODY + 1
        pending = self._readers.submit(req.stream.read, wanted)
        try:
            raw: bytes = pending.result(self.timeout)
        except ReadTimedOut:
            raise BodyTimedOut(self.timeout, pending) from None
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge(f"the request body is larger than {MAX_BODY} bytes (1 MiB)")
        if length is not None and len(raw) < length:
            raise InvalidPayload("the request body ended before its Content-Length",
                                 details=f"got {len(raw)} of {length} bytes")
        return raw
