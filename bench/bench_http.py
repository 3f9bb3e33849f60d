"""P5: the HTTP server under load, side by side with hello-world peers in one run.

Every server is one process pinned to CPU 0 and wrk (one thread, 32 connections,
keep-alive) runs pinned to CPU 1, on loopback. Measured: GET one enrollment, GET
a page of 25, POST create (a wrk Lua script, a new resource per request) on our
app (Falcon on granian, the SQLite store `seqengine serve` uses, rate limiting on
with a limit too high to bite, so its cost is in the figures), and the hello-world
JSON endpoint of Falcon on granian (WSGI, the same server settings as ours: one
worker, up to 512 blocking threads grown on demand, `serve`'s default), Starlette on uvicorn and
FastAPI on uvicorn (uvloop and httptools, as `uvicorn[standard]` runs). Our app
runs over three stores: the SQLite one decides the goal, the in-memory one shows
what the storage costs, and PostgreSQL (P6's throwaway cluster) runs with one and
two server processes. The SQLite app and Falcon's hello-world run again with 2
blocking threads (`serve --blocking-threads 2`, fit only behind a proxy that
buffers request bodies: docs/http.md), a row of its own that says so; the goal
is judged at the default. Beside the page, Falcon's hello-world answering the page's
own bytes (`page_bytes_falcon_granian`): what sending ~36 KB costs this stack before
any of our code. Then the app's own cost per request, layer by layer, in process
(bench/http_layers.py).
Medians of several repeats, with min and max; a short warm-up first.

`python -m bench.bench_http [--quick]` prints the P5 entry as JSON; `make bench`
puts it into bench/results.json. Not a test: nothing here asserts a time.
"""

import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import http_layers
from bench.common import machine, ratio
from bench.http_note import note
from engine.adapters.http.server import DEFAULT_BLOCKING_THREADS

ROOT = Path(__file__).resolve().parent.parent
FIGURE = ("HTTP: GET one enrollment, GET a page of 25, POST create; rps and p99 at "
          "concurrency 32 on loopback, one server process, wrk on the other core")
GOAL = ("GET one >= 50% of the chosen framework's hello-world rps and >= 25% of the "
        "fastest hello-world; POST create >= 50% of GET one; p99 <= 20 ms")
CONNECTIONS = 32
HELLO = {"hello": "world"}
PAGE_QUERY = "per_page=25&page=2"
SERVER_CPU, LOAD_CPU = "0", "1"
BLOCKING_THREADS = DEFAULT_BLOCKING_THREADS  # granian's, for every granian server here
# and again with few, as `serve --blocking-threads 2` runs behind a body-buffering proxy
# (docs/http.md, Blocking threads): the goal is judged at the default
FEW_THREADS = 2


# -- the apps under test (imported by the servers through their factories) ----------

def falcon_hello() -> Any:
    import falcon

    class Hello:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.media = HELLO

    app = falcon.App()
    app.add_route("/", Hello())
    return app


def falcon_page_bytes() -> Any:
    """Falcon's hello-world answering, instead, the bytes of the page of 25 measured
    (the file SEQENGINE_BENCH_PAGE, written by the parent): the floor of sending them."""
    import falcon

    body = Path(os.environ["SEQENGINE_BENCH_PAGE"]).read_bytes()

    class Page:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.data = body
            resp.content_type = "application/json; charset=utf-8"

    app = falcon.App()
    app.add_route("/", Page())
    return app


def starlette_hello() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse(HELLO)

    return Starlette(routes=[Route("/", hello)])


def fastapi_hello() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return HELLO

    return app


def engine_app() -> Any:
    """Our app as `seqengine serve` runs it by default: over a SQLite file, here the one
    the parent prepared (SEQENGINE_BENCH_DB)."""
    from engine import SystemClock, build
    from engine.adapters.storage.sqlite import SqliteStore

    store = SqliteStore(os.environ["SEQENGINE_BENCH_DB"])
    return _app(build(store, SystemClock()))


def engine_app_postgres() -> Any:
    """The same app as `seqengine serve --db postgresql://...` builds it."""
    from engine import SystemClock, build
    from engine.runtime.settings import open_store

    return _app(build(open_store(os.environ["SEQENGINE_BENCH_DB"]), SystemClock()))


def engine_app_memory() -> Any:
    """The same app and data over the in-memory store: what the storage costs."""
    from engine import in_memory

    engine = in_memory()
    populate(engine, os.environ["SEQENGINE_BENCH_TOKEN"])
    return _app(engine)


def _app(engine: Any) -> Any:
    from engine.adapters.http import RateLimit, TokenAuth, create_app
    from engine.runtime.server import settle_gc

    app = create_app(engine, auth=TokenAuth(engine.store),
                     rate_limit=RateLimit(limit=10**9, period=1, burst=10**9),
                     clock_mode="system")
    settle_gc()  # as `seqengine serve` does once its app is built
    return app


# -- data, servers and load ---------------------------------------------------------

def populate(engine: Any, token: str) -> dict[str, int]:
    """An account, a user with `token`, a 2-step sequence and 60 enrollments; the same
    ids in every store."""
    from engine.adapters.http import hash_token
    from engine.domain.account import ApiToken
    from engine.domain.enums import ActionType, DelayUnit
    from engine.domain.sequence import Step

    account = engine.create_account("bench")
    user = engine.create_user(account.id)
    steps = [Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606),
             Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9607)]
    sequence = engine.create_sequence(account.id, name="Warm approach after webinar",
                                      steps=steps, creator_id=user.id)
    first = None
    for resource in range(1, 61):
        view = engine.enroll(account.id, sequence_id=sequence.id, resource_type="lead",
                             resource_id=resource, actor_id=user.id)
        first = first or view.enrollment.id
    with engine.store.unit_of_work() as uow:
        uow.save_token(ApiToken(hash_token(token), user.id, account.id))
        uow.commit()
    return {"sequence": sequence.id, "enrollment": first}


def prepare(db_url: str, token: str) -> dict[str, int]:
    from engine import SystemClock, build
    from engine.runtime.settings import open_store

    store = open_store(db_url)
    try:
        return populate(build(store, SystemClock()), token)
    finally:
        store.close()


def page_body(db_url: str, token: str) -> bytes:
    """The page of 25 the served runs ask for, as our app answers it in this process."""
    from engine import SystemClock, build
    from engine.runtime.settings import open_store

    store = open_store(db_url)
    try:
        app = _app(build(store, SystemClock()))
        status: list[str] = []
        body = b"".join(app(http_layers.environ("GET", "/v2/sequence_enrollments", PAGE_QUERY,
                                                token),
                            lambda s, headers, exc=None: status.append(s)))
    finally:
        store.close()
    if not status[0].startswith("200"):
        raise RuntimeError(f"the page answered {status[0]}")
    return body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pinned(cpu: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command] if shutil.which("taskset") else command


def server_command(kind: str, target: str, port: int, workers: int = 1,
                   threads: int = BLOCKING_THREADS) -> list[str]:
    python = sys.executable
    if kind == "granian":
        return [python, "-m", "granian", "--interface", "wsgi", "--factory",
                "--workers", str(workers), "--blocking-threads", str(threads),
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
                "--log-level", "warning", "--working-dir", str(ROOT), target]
    return [python, "-m", "uvicorn", "--factory", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--app-dir", str(ROOT), target]


@contextmanager
def running(kind: str, target: str, env: dict[str, str] | None = None,
            workers: int = 1, threads: int = BLOCKING_THREADS) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(pinned(SERVER_CPU,
                                      server_command(kind, target, port, workers, threads)),
                               env=dict(os.environ, **(env or {})),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(port, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server exited with {process.returncode}: {error}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("server did not start within 30 s")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


RUNS = iter(range(1, 1_000_000))


def wrk(url: str, seconds: float, headers: dict[str, str], script: str | None = None,
        ) -> dict[str, float]:
    """One wrk run; `script` is Lua with `{first}` where its first resource id goes
    (each run gets its own range, so a POST never repeats an earlier one)."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script is not None:
            lua.write(script.replace("{first}", str(next(RUNS) * 10_000_000)))
            lua.flush()
            command += ["-s", lua.name]
        output = subprocess.run(pinned(LOAD_CPU, [*command, url]), capture_output=True,
                                text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    assert p99 is not None, output
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p99_ms": round(float(p99.group(1)) * UNITS[p99.group(2)], 3),
            "non_2xx": int(errors.group(1)) if errors else 0}


def measure(url: str, seconds: float, repeats: int, headers: dict[str, str],
            script: str | None = None) -> dict[str, Any]:
    wrk(url, min(1.0, seconds), headers, script)  # warm-up, not counted
    runs = [wrk(url, seconds, headers, script) for _ in range(repeats)]
    rps = [run["rps"] for run in runs]
    p99 = [run["p99_ms"] for run in runs]
    return {
        "rps": {"median": round(statistics.median(rps)), "min": round(min(rps)),
                "max": round(max(rps))},
        "p99_ms": {"median": statistics.median(p99), "min": min(p99), "max": max(p99)},
        "non_2xx": sum(run["non_2xx"] for run in runs),
    }


CREATE_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = {first}
request = function()
  n = n + 1
  local body = '{"data": {"sequence_id": %d, "resource_type": "lead", "resource_id": ' .. n ..
               '}, "meta": {"type": "sequence_enrollment"}}'
  return wrk.format(nil, "/v2/sequence_enrollments", nil, body)
end
"""


def routes(base: str, data: dict[str, int], seconds: float, repeats: int,
           auth: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The three measured routes of one running server."""
    return {
        "get_one": measure(f"{base}/v2/sequence_enrollments/{data['enrollment']}",
                           seconds, repeats, auth),
        "get_page_25": measure(f"{base}/v2/sequence_enrollments?{PAGE_QUERY}",
                               seconds, repeats, auth),
        "post_create": measure(f"{base}/", seconds, repeats, auth,
                               CREATE_SCRIPT.replace("%d", str(data["sequence"]))),
    }


def postgres_routes(seconds: float, repeats: int, token: str,
                    auth: dict[str, str], quick: bool) -> dict[str, Any]:
    """The same routes on PostgreSQL (`serve --db postgresql://... --workers N`), on a
    throwaway durable cluster (P6's: bench.bench_scheduler.Server), with one and two
    server processes, both pinned to the server core as the SQLite one is."""
    from bench.bench_scheduler import Server

    server = Server()
    try:
        url = server.database()
        data = prepare(url, token)
        found: dict[str, Any] = {}
        for workers in (1, 2):
            with running("granian", "bench.bench_http:engine_app_postgres",
                         {"SEQENGINE_BENCH_DB": url}, workers) as base:
                found[f"{workers}_processes"] = routes(base, data, seconds, repeats, auth)
        found["in_process"] = http_layers.in_process(url, token, data, quick)
        found["settings"] = {name: server.setting(name) for name in
                             ("server_version", "synchronous_commit", "fsync")}
        return found
    finally:
        server.cluster.stop()


def run(quick: bool) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise RuntimeError("P5 needs wrk (apt-get install wrk)")
    seconds, repeats = (2.0, 1) if quick else (8.0, 3)
    module = "bench.bench_http"
    hello: dict[str, dict[str, Any]] = {}
    for name, kind, target in [("falcon_granian", "granian", f"{module}:falcon_hello"),
                               ("starlette_uvicorn", "uvicorn", f"{module}:starlette_hello"),
                               ("fastapi_uvicorn", "uvicorn", f"{module}:fastapi_hello")]:
        with running(kind, target) as base:
            hello[name] = measure(f"{base}/", seconds, repeats, {})
    token = secrets.token_hex(32)
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    stores: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'bench.db'}"
        data = prepare(db, token)
        env = {"SEQENGINE_BENCH_DB": db, "SEQENGINE_BENCH_TOKEN": token}
        for store, target in [("sqlite", "engine_app"), ("memory", "engine_app_memory")]:
            with running("granian", f"{module}:{target}", env) as base:
                stores[store] = routes(base, data, seconds, repeats, auth)
        page_file = Path(folder) / "page.json"
        page_file.write_bytes(page_body(db, token))
        with running("granian", f"{module}:falcon_page_bytes",
                     {"SEQENGINE_BENCH_PAGE": str(page_file)}) as base:
            page_bytes = measure(f"{base}/", seconds, repeats, {})
        with running("granian", f"{module}:falcon_hello", threads=FEW_THREADS) as base:
            few_hello = measure(f"{base}/", seconds, repeats, {})
        with running("granian", f"{module}:engine_app", env, threads=FEW_THREADS) as base:
            few = routes(base, data, seconds, repeats, auth)
        layers = {"falcon_hello_us": http_layers.hello_us(300 if quick else 3000),
                  "sqlite": http_layers.in_process(db, token, data, quick)}
    postgres = postgres_routes(seconds, repeats, token, auth, quick)
    layers["postgres"] = postgres.pop("in_process")
    ours = stores["sqlite"]

    def rps(entry: dict[str, Any]) -> float:
        value: float = entry["rps"]["median"]
        return value

    fastest = max(hello, key=lambda name: rps(hello[name]))
    ratios = {
        "get_one_vs_own_hello": ratio(rps(ours["get_one"]), rps(hello["falcon_granian"])),
        "get_one_vs_fastest_hello": ratio(rps(ours["get_one"]), rps(hello[fastest])),
        "post_create_vs_get_one": ratio(rps(ours["post_create"]), rps(ours["get_one"])),
        "get_page_25_vs_get_one": ratio(rps(ours["get_page_25"]), rps(ours["get_one"])),
        "get_page_25_vs_page_bytes": ratio(rps(ours["get_page_25"]), rps(page_bytes)),
    }
    worst_p99 = max(entry["p99_ms"]["median"] for entry in ours.values())
    goals = {
        "get_one_vs_own_hello >= 0.5": ratios["get_one_vs_own_hello"] >= 0.5,
        "get_one_vs_fastest_hello >= 0.25": ratios["get_one_vs_fastest_hello"] >= 0.25,
        "post_create_vs_get_one >= 0.5": ratios["post_create_vs_get_one"] >= 0.5,
        "p99 <= 20 ms": worst_p99 <= 20.0,
        "no errors": all(entry["non_2xx"] == 0 for entry in ours.values()),
    }
    entry = {
        "id": "P5",
        "figure": FIGURE,
        "goal": GOAL,
        "ours": {"stack": f"Falcon WSGI on granian ({BLOCKING_THREADS} blocking threads, the "
                          "serve default), SQLite store (the serve default)", **ours},
        f"ours_{FEW_THREADS}_blocking_threads": {
            "stack": f"the same with granian --blocking-threads {FEW_THREADS}, NOT the serve "
                     f"default {DEFAULT_BLOCKING_THREADS} (serve --blocking-threads "
                     f"{FEW_THREADS}: only behind a proxy that buffers request bodies), "
                     f"Falcon's hello-world with the same {FEW_THREADS}",
            **few,
            "hello_world_falcon_granian": few_hello,
            "ratios": {
                "get_one_vs_own_hello": ratio(rps(few["get_one"]), rps(few_hello)),
                "post_create_vs_get_one": ratio(rps(few["post_create"]), rps(few["get_one"])),
                "get_page_25_vs_get_one": ratio(rps(few["get_page_25"]), rps(few["get_one"])),
            },
            "worst_p99_ms": max(entry["p99_ms"]["median"] for entry in few.values()),
        },
        "ours_memory_store": stores["memory"],
        "ours_postgres": postgres,
        "in_process": layers,
        "postgres_ratios": {
            f"{n}_processes": {
                "get_one_vs_own_hello": ratio(rps(postgres[f"{n}_processes"]["get_one"]),
                                              rps(hello["falcon_granian"])),
                "post_create_vs_get_one": ratio(rps(postgres[f"{n}_processes"]["post_create"]),
                                                rps(postgres[f"{n}_processes"]["get_one"])),
            } for n in (1, 2)},
        "memory_store_ratios": {
            "get_one_vs_own_hello": ratio(rps(stores["memory"]["get_one"]),
                                          rps(hello["falcon_granian"])),
            "post_create_vs_get_one": ratio(rps(stores["memory"]["post_create"]),
                                            rps(stores["memory"]["get_one"])),
        },
        "peers": {"hello_world": hello, "fastest_hello": fastest,
                  "page_bytes_falcon_granian": page_bytes},
        "ratios": ratios,
        "worst_p99_ms": worst_p99,
        "goals": goals,
        "goal_met": all(goals.values()),
        "mode": "quick" if quick else "full",
        "load": {"tool": "wrk", "threads": 1, "connections": CONNECTIONS,
                 "seconds": seconds, "repeats": repeats},
        "machine": machine(),
    }
    return {**entry, "note": note(entry)}


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
