"""Where a P5 request's time goes, layer by layer, measured in process.

The app is called as granian calls it (a WSGI environ in, the body out), without
the server and the socket: `us_per_request` is the app's own cost per route,
unprofiled, and `shares` splits it by layer under cProfile, by the file each
function's own time is spent in:

- http: Falcon, the gate (request id, headers, rate limit, scope), routing, the
  resource, the query parser;
- auth: the bearer check (token shape, SHA-256) besides its store read;
- store: the storage adapter and its driver (sqlite3 or psycopg): transactions,
  the catalog cache, statements, row decoding;
- app: the use case, the domain and the overdue judgement (timeline);
- render: the wire JSON (engine/wire/render.py and orjson).

The hello-world row is Falcon's own hello-world app called the same way: what the
framework costs before any of ours. On SQLite GET one, the page and POST create are
also measured with their fast paths off (`get_one_without_fast_path`: Falcon, the
gate, the use case and the render; `get_page_25_without_fast_path`: Falcon, the gate
and the page memo's hit in the read transaction; `post_create_without_fast_path`:
Falcon, the gate, the create and the render; engine/adapters/http/fast_get.py,
fast_post.py), in the same run.
"""

import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

LAYERS = {
    "store": ("engine/adapters/storage/", "sqlite3", "psycopg", "catalog_cache"),
    "render": ("engine/wire/", "orjson"),  # the wire JSON, written and read
    "auth": ("engine/adapters/http/auth.py", "engine/adapters/http/tokens.py", "hashlib",
             "_hashlib"),
    "app": ("engine/app/", "engine/domain/", "engine/timeline/"),
}


def layer_of(where: str) -> str:
    for layer, marks in LAYERS.items():
        if any(mark in where for mark in marks):
            return layer
    return "http"


def environ(method: str, path: str, query: str, token: str, body: bytes = b"") -> dict[str, Any]:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": "application/json",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False}


def caller(app: Any, token: str, data: dict[str, int]) -> dict[str, Callable[[], None]]:
    """One call per route, each checked to answer 200."""
    created = iter(range(900_000_000, 2_000_000_000))

    def call(method: str, path: str, query: str = "", body: bytes = b"") -> None:
        status: list[str] = []
        b"".join(app(environ(method, path, query, token, body),
                     lambda s, headers, exc=None: status.append(s)))
        if not status[0].startswith("200"):
            raise RuntimeError(f"{method} {path}: {status[0]}")

    def post() -> None:
        body = (f'{{"data": {{"sequence_id": {data["sequence"]}, "resource_type": "lead", '
                f'"resource_id": {next(created)}}}}}').encode()
        call("POST", "/v2/sequence_enrollments", body=body)

    return {
        "get_one": lambda: call("GET", f"/v2/sequence_enrollments/{data['enrollment']}"),
        "get_page_25": lambda: call("GET", "/v2/sequence_enrollments", "per_page=25&page=2"),
        "post_create": post,
    }


def per_request_us(fn: Callable[[], None], number: int) -> float:
    for _ in range(min(50, number)):
        fn()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number * 1e6)
    return round(best, 1)


def shares(fn: Callable[[], None], number: int) -> dict[str, float]:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(number):
        fn()
    profile.disable()
    totals: dict[str, float] = {}
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, own, _, _) in stats.items():
        layer = layer_of(f"{filename} {name}")
        totals[layer] = totals.get(layer, 0.0) + own
    whole = sum(totals.values()) or 1.0
    return {layer: round(totals.get(layer, 0.0) / whole, 3)
            for layer in ("http", "auth", "store", "app", "render")}


def measure(app: Any, token: str, data: dict[str, int], number: int) -> dict[str, Any]:
    routes = caller(app, token, data)
    scale = {"get_one": 1, "get_page_25": 10, "post_create": 2}  # a page costs ~10 GETs
    found = {route: {"us_per_request": per_request_us(fn, number // scale[route]),
                     "shares": shares(fn, number // scale[route])}
             for route, fn in routes.items()}
    for attribute, through_falcon in (("fast_get", ("get_one", "get_page_25")),
                                      ("fast_post", ("post_create",))):
        fast = getattr(app, attribute, None)
        if fast is None:
            continue
        setattr(app, attribute, None)  # these routes through Falcon's path, beside them
        try:
            for route in through_falcon:
                found[f"{route}_without_fast_path"] = {
                    "us_per_request": per_request_us(routes[route], number // scale[route]),
                    "shares": shares(routes[route], number // scale[route])}
        finally:
            setattr(app, attribute, fast)
    return found


def hello_us(number: int) -> float:
    from bench.bench_http import falcon_hello

    app = falcon_hello()

    def call() -> None:
        b"".join(app(environ("GET", "/", "", ""), lambda s, headers, exc=None: None))

    return per_request_us(call, number)


def in_process(url: str, token: str, data: dict[str, int], quick: bool) -> dict[str, Any]:
    """The app's own cost per request and its layers, in this process, on the
    database at `url`."""
    from bench.bench_http import _app
    from engine import SystemClock, build
    from engine.runtime.settings import open_store

    store = open_store(url)
    try:
        return measure(_app(build(store, SystemClock())), token, data, 200 if quick else 2000)
    finally:
        store.close()
