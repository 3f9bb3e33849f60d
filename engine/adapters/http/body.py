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
own, not everyone's. The readers are kept threads, handed each read through two
locks (cheaper than an executor's queue and Future: docs/http.md, Slow clients).
"""

import threading
from collections.abc import Callable, Iterator

import falcon

from engine.adapters.clocks import monotonic
from engine.errors import InvalidPayload, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

MAX_BODY = 1 << 20  # 1 MiB: far above any real request of this API
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_READERS = 1024
Read = Callable[[int], bytes]
# environ key: the body (or the exception its read raised) that POST create's fast path
# read before handing the request on to Falcon (engine/adapters/http/fast_post.py)
READ_AHEAD = "seqengine.body_read"


def is_json(content_type: str) -> bool:
    """`application/json`, any case, with or without parameters (`; charset=utf-8`)."""
    return content_type.partition(";")[0].strip().lower() == "application/json"


class Reader:
    """A kept reader thread. A read is handed over by releasing `_go` and its end told
    by releasing `_done`: each lock is released by one thread and acquired by the
    other, one read at a time. A read its caller stopped waiting for (`abandon`) ends
    the thread once it returns, so an abandoned reader is never handed out again."""

    __slots__ = ("_done", "_ended", "_go", "_read", "_state", "abandoned", "error", "raw",
                 "wanted")

    def __init__(self, ended: Callable[["Reader"], None]) -> None:
        self._go, self._done, self._state = threading.Lock(), threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._ended = ended  # told when an abandoned read returns, as the thread ends
        self._read: Read | None = None  # set while a read is handed over and not returned
        self.wanted, self.raw, self.abandoned = 0, b"", False
        self.error: BaseException | None = None
        threading.Thread(target=self._serve, name="seqengine-body", daemon=True).start()

    def _serve(self) -> None:
        error: BaseException | None
        while True:
            self._go.acquire()
            read = self._read
            if read is None:  # retired
                return
            raw, error = b"", None
            try:
                raw = read(self.wanted)
            except BaseException as failure:  # the request thread raises it
                error = failure
            with self._state:
                self.raw, self.error, self._read = raw, error, None
                abandoned = self.abandoned
            self._done.release()
            if abandoned:
                self._ended(self)
                return

    def start(self, read: Read, wanted: int) -> None:
        self._read, self.wanted = read, wanted
        self._go.release()

    def wait(self, timeout: float = -1) -> bool:
        """Whether the read returned (within `timeout` seconds; -1: however long). An
        abandoned read that returned stays so for every later wait: its 408 and the app
        (engine/adapters/http/app.py) may each wait for it."""
        returned = self._done.acquire(timeout=timeout)
        if returned and self.abandoned:
            self._done.release()
        return returned

    def abandon(self) -> bool:
        """Stop waiting for a read that has not returned; False if it just did (then
        wait() returns at once and the reader may serve again)."""
        with self._state:
            if self._read is None:
                return False
            self.abandoned = True
            return True

    def retire(self) -> None:
        self._go.release()  # with no read handed over: the thread ends


class BodyTimedOut(RequestTimeout):
    """408; `then_wait` streams the answer and then waits for the abandoned read."""

    def __init__(self, timeout: float, pending: Reader) -> None:
        super().__init__(f"the request body did not arrive within {timeout:g} s")
        self.pending = pending

    def then_wait(self, answer: bytes) -> Iterator[bytes]:
        yield answer
        self.pending.wait()  # returns once the client sent the rest or went away


class BodyReader:
    """`clock`: the monotonic clock the read deadline runs on (tests pass a fake one)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT,
                 max_readers: int = DEFAULT_MAX_READERS,
                 clock: Callable[[], float] = monotonic) -> None:
        if timeout <= 0 or max_readers < 1:
            raise ValueError("a body reader needs timeout > 0 and max_readers >= 1")
        self.timeout, self.max_readers, self._clock = timeout, max_readers, clock
        self._idle: list[Reader] = []
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._live = 0  # reader threads, idle, busy or abandoned
        self._waiting = 0  # requests waiting for a reader (all `max_readers` busy)

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
        raw: bytes
        ahead = req.env.get(READ_AHEAD)
        if ahead is not None:  # POST create's fast path read it already (fast_post.py)
            if isinstance(ahead, BaseException):
                raise ahead
            raw = ahead
        else:
            raw = self.within_deadline(req.stream.read, length if length is not None
                                       else MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise PayloadTooLarge(f"the request body is larger than {MAX_BODY} bytes (1 MiB)")
        if length is not None and len(raw) < length:
            raise InvalidPayload("the request body ended before its Content-Length",
                                 details=f"got {len(raw)} of {length} bytes")
        return raw

    def within_deadline(self, read: Read, wanted: int) -> bytes:
        """`read(wanted)` on a reader thread, waited for at most `timeout` seconds (its
        exception raised here); BodyTimedOut past it."""
        deadline = self._clock() + self.timeout
        reader = self._take(deadline)
        if reader is None:  # every reader busy until the deadline: the body was not read
            raise RequestTimeout(f"the request body did not arrive within {self.timeout:g} s")
        reader.start(read, wanted)
        if not reader.wait(max(0.0, deadline - self._clock())):
            if reader.abandon():
                raise BodyTimedOut(self.timeout, reader)
            reader.wait()  # it returned just as the deadline passed
        raw, error = reader.raw, reader.error
        reader.raw, reader.error = b"", None
        self._give_back(reader)
        if error is not None:
            raise error
        return raw

    def _take(self, deadline: float) -> Reader | None:
        with self._lock:
            while not self._idle:
                if self._live < self.max_readers:
                    self._live += 1
                    return Reader(self._ended)
                left = deadline - self._clock()
                self._waiting += 1
                try:
                    if left <= 0 or not self._freed.wait(left):
                        return None
                finally:
                    self._waiting -= 1
            return self._idle.pop()

    def _give_back(self, reader: Reader) -> None:
        with self._lock:
            self._idle.append(reader)
            if self._waiting:
                self._freed.notify()

    def _ended(self, reader: Reader) -> None:
        """An abandoned reader's read returned and its thread ends: room for another."""
        with self._lock:
            self._live -= 1
            if self._waiting:
                self._freed.notify()
