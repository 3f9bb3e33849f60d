"""The Sell client tests' world: our server (the HTTP tests' `build_api`) reached by
a SellClient in-process or over a loopback socket, plus the scenario helpers."""

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
from http_world import Api, build_api

from engine.adapters.sell import SellClient

IN_PROCESS_URL = "http://seqengine.test"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Serving:
    """Serves WSGI apps on 127.0.0.1 (ephemeral ports) in threads; stops them all on exit."""

    def __init__(self) -> None:
        self.servers: list[tuple[WSGIServer, threading.Thread]] = []

    def __enter__(self) -> "Serving":
        return self

    def serve(self, app: Any) -> str:
        server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        self.servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    def __exit__(self, *exc: object) -> None:
        for server, thread in self.servers:
            server.shutdown()
            thread.join()
            server.server_close()


class Recorder(httpx.BaseTransport):
    """A one-method transport that records each request before passing it on."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@dataclass
class World:
    mode: str  # "in_process" or "loopback"
    api: Api  # the falcon test client on the same app: engine extension calls
    app: Any
    base_url: str
    waits: list[float] = field(default_factory=list)
    recorder: Recorder | None = None  # the last client's, when made with record=True

    @property
    def engine(self) -> Any:
        return self.api.engine

    def transport(self) -> httpx.BaseTransport:
        if self.mode == "in_process":
            return httpx.WSGITransport(app=self.app)
        return httpx.HTTPTransport()

    def client(self, as_: str = "rw", *, record: bool = False,
               sleep: Callable[[float], None] | None = None, **options: Any) -> SellClient:
        """A SellClient with token `as_`; its waits go to `self.waits` (never slept)."""
        transport = self.transport()
        if record:
            transport = self.recorder = Recorder(transport)
        token = self.api.tokens.get(as_, as_)  # a name, or a token as it is
        return SellClient(self.base_url, token, transport=transport,
                          sleep=sleep or self.waits.append, **options)

    # -- scenario helpers (the engine extension, in-process on the same engine) --

    def sequence(self, steps: list[dict[str, Any]] | None = None, name: str = "Seq") -> int:
        return self.api.sequence(steps, name=name)

    def advance(self, seconds: float) -> None:
        self.api.advance(seconds)

    def fail_sends_to(self, resource_id: int, reason: str = "recipient_invalid") -> None:
        result = self.api.post("/engine/v1/outbox/failures", {
            "resource_type": "lead", "resource_id": resource_id, "failure_reason": reason})
        assert result.status_code == 200, result.text

    def clear_failures(self) -> None:
        assert self.api.delete("/engine/v1/outbox/failures").status_code == 204


class WorldFactory(Protocol):
    def __call__(self, **options: Any) -> World: ...


def make_world(mode: str, serving: Serving, **options: Any) -> World:
    """A fresh world (http_world.build_api: START, users and tokens) reached by `mode`;
    `options` go to build_api (rate_limit, rate_clock)."""
    api = build_api(**options)
    app = api.client.app
    url = IN_PROCESS_URL if mode == "in_process" else serving.serve(app)
    return World(mode, api, app, url)


def enroll_many(client: SellClient, sequence_id: int, resource_ids: Iterable[int]) -> list[int]:
    return [client.create_enrollment(sequence_id, "lead", rid).id for rid in resource_ids]
