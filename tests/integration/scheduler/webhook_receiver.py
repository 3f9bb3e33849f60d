"""A host backend's webhook receiver on 127.0.0.1, as docs/runtime.md asks one to be.

It records every request (key, body, arrival instant), verifies the signature,
refuses a send that arrives after its `lease_expires_at` (a 503: transient, so a
worker that still held the claim would retry it), and de-duplicates by key: the
first accepted arrival of a key is its one effect. It can be slow: `delay(key)`
seconds pass between the arrival and the reply, as with a slow mail provider.
"""

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.adapters.clocks import SystemClock
from engine.adapters.webhook import sign
from engine.wire.parse import parse_instant

SECRET = "crash-tests-secret"


@dataclass(frozen=True)
class Arrival:
    key: str
    body: dict[str, Any]
    at: datetime  # on the same wall clock the workers read
    accepted: bool  # False: it came after its lease ran out, and was refused


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a killed worker resets its connections: expected here


class Receiver:
    def __init__(self, delay: Callable[[str], float] | float = 0.0) -> None:
        self.delay = delay if callable(delay) else (lambda key, d=delay: d)
        self.clock = SystemClock()
        self.arrivals: list[Arrival] = []
        self.effects: dict[str, Arrival] = {}
        self.bad_signatures = 0
        self.in_flight = 0
        self.changed = threading.Condition()
        self.closing = threading.Event()
        self.server = QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sends"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.closing.set()  # slow replies end at once
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    # -- what the tests read -----------------------------------------------

    def wait_for(self, condition: Callable[["Receiver"], bool], seconds: float = 30.0) -> None:
        """Until `condition(self)` holds (checked on every arrival and reply)."""
        with self.changed:
            if not self.changed.wait_for(lambda: condition(self), timeout=seconds):
                raise AssertionError(f"the receiver did not get there within {seconds} s")

    def snapshot(self) -> list[Arrival]:
        with self.changed:
            return list(self.arrivals)

    def counts(self) -> Counter[str]:
        """Arrivals per key, accepted or not."""
        return Counter(a.key for a in self.snapshot())

    # -- the handler --------------------------------------------------------

    def _arrive(self, raw: bytes, signature: str | None) -> Arrival | None:
        if signature != sign(SECRET, raw):
            with self.changed:
                self.bad_signatures += 1
                self.changed.notify_all()
            return None
        body = json.loads(raw)
        now = self.clock.now()
        arrival = Arrival(body["idempotency_key"], body, now,
                          now < parse_instant(body["lease_expires_at"]))
        with self.changed:
            self.arrivals.append(arrival)
            if arrival.accepted:
                self.effects.setdefault(arrival.key, arrival)
            self.in_flight += 1
            self.changed.notify_all()
        return arrival

    def _replied(self) -> None:
        with self.changed:
            self.in_flight -= 1
            self.changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the workers' httpx clients expect
            disable_nagle_algorithm = True  # headers and body go in two writes

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request: no send at all
                    self.close_connection = True
                    return
                arrival = receiver._arrive(raw, self.headers.get("X-Seqengine-Signature"))
                if arrival is None:
                    self._reply(401, b'{"status":"failed","failure_reason":"auth"}')
                    return
                try:
                    receiver.closing.wait(receiver.delay(arrival.key))  # a slow provider
                    if arrival.accepted:
                        self._reply(200, b'{"status":"sent"}')
                    else:
                        self._reply(503, b'{"error":"the lease ran out before the send"}')
                finally:
                    receiver._replied()

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        return Handler
