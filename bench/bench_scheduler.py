"""P6: scheduler burn-down. N due email steps (outbox delivery) pre-filled, then
drained by 1, 2 and 4 worker processes (the engine's Scheduler, as `seqengine
worker` runs it), on a SQLite file and on PostgreSQL; beside it, in the same run
and on the same PostgreSQL server, PgQueuer draining N no-op jobs with the same
numbers of worker processes. Then the due latency at half load: steps come due
at half the rate one worker drained, and each send's lateness is measured.

The PostgreSQL server is a throwaway cluster started for the run with durable
settings (fsync on, synchronous_commit as recorded); SQLite runs in WAL with
synchronous=NORMAL, the store's default. Each run gets a fresh database.
"""

import asyncio
import importlib.util
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import machine, summary

ROOT = Path(__file__).resolve().parent.parent
ACTORS = 10
ENGINE_THREADS = 10  # sender threads per engine worker process (its claim batch)
PGQUEUER_BATCH = 10  # PgQueuer's default dequeue batch
LATENCY_STEPS = 8000  # the most steps the due-latency run pre-fills
NOTE = (  # docs/benchmarks.md shows it above the P6 figures
    "Burn-down: N email steps due at once, drained by worker processes running the engine's "
    "Scheduler (10 sender threads each, outbox delivery) or PgQueuer's QueueManager (batch "
    "10, no-op job), timed from `go` until the last one is recorded. PostgreSQL is a "
    "throwaway cluster with durable settings (fsync on, synchronous_commit on); SQLite runs "
    "WAL with synchronous=NORMAL. Every step was checked to be sent exactly once. The "
    "machine is a shared 2-core box, so absolute figures move with its load; ratios are "
    "from the same run. Where PostgreSQL's time goes (cProfile, CPU time of the client and "
    "the server processes, pg_stat_activity sampled for lock waits): the outbox is a write "
    "to the store, so the claim makes and records its sends in the claim's own transaction "
    "(a transactional outbox: nothing to fence across transactions, a crash rolls it all "
    "back). A batch of 10 steps is one transaction and one commit, with no awaited "
    "statement per step: the claim (1 statement), the actors (1), the account (1), the send "
    "counters read (1), the failure rules (1, once per transaction), then the lease "
    "releases (1) and the outbox inserts (1) and the enrollment saves (1 per step) sent "
    "pipelined with the counters' increment (1, which returns the new totals), and the "
    "COMMIT: about 2 statements and 0.7 round trips per step, against 5 statements and 3 "
    "round trips before. One claimer alone (2026-12-06, the machine loaded): client CPU "
    "per step ~740 us before, ~250 us after; server ~535 us before, ~215 us after. The "
    "send counters (one row per account and day, shared by every claimer) used to be "
    "locked from a claim's start to its commit, so claims queued on them: at 4 workers "
    "~30% of the backends' samples were lock waits, now ~2%. A claim far from its limits "
    "reads them unlocked and adds its sends just before COMMIT, checking the new totals "
    "there (past a limit: rolled back, run again with the counters locked), so the row is "
    "locked for about a commit. What is left is CPU: psycopg's cost per statement and the "
    "enrollment saves, one per step; on 2 cores the worker processes and the server share "
    "it. PgQueuer spends a few statements per batch of 10 jobs."
)
SERVER = ("fsync=on", "synchronous_commit=on", "max_connections=200",
          "shared_buffers=128MB", "listen_addresses=127.0.0.1")


def prefill_engine(url: str, n: int, due: Callable[[int], Any] | None = None) -> None:
    """N enrollments in a one-step email sequence, due now (or at `due(i)`)."""
    from engine import ActionType, DelayUnit, Step, SystemClock, build
    from engine.app.enrollments import create_enrollment
    from engine.domain.enums import ResourceType
    from engine.runtime.settings import open_store

    store = open_store(url)
    clock = SystemClock()
    engine = build(store, clock)
    account = engine.create_account("bench", daily_email_quota=10**9)
    actors = [engine.create_user(account.id, weekmask="1111111", daily_email_limit=10**9).id
              for _ in range(ACTORS)]
    step = Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False)
    sequence = engine.create_sequence(account.id, name="burn", creator_id=actors[0],
                                      steps=[step]).id
    now = clock.now()
    for start in range(0, n, 1000):
        with store.unit_of_work() as uow:
            for i in range(start, min(n, start + 1000)):
                create_enrollment(uow, now if due is None else due(i), account,
                                  sequence_id=sequence, resource_type=ResourceType.LEAD,
                                  resource_id=i + 1, actor_id=actors[i % ACTORS])
            uow.commit()
    store.close()


def prefill_pgqueuer(url: str, n: int) -> None:
    import psycopg
    from pgqueuer import Queries

    async def fill() -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            queries = Queries.from_psycopg_connection(conn)
            await queries.install()
            for start in range(0, n, 1000):
                size = min(n, start + 1000) - start
                await queries.enqueue(["noop"] * size, [None] * size, [0] * size)

    asyncio.run(fill())


def drain(kind: str, url: str, workers: int, size: int, done: Callable[[], bool],
          extra: tuple[str, ...] = ()) -> float:
    """Seconds from `go` until `done()`, with `workers` processes of `kind`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "bench.scheduler_worker", kind, url,
                               str(size), *extra], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
             for _ in range(workers)]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        deadline = start + 600
        while not done():
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError(f"a {kind} worker process died (its stderr says why)")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{kind} with {workers} workers did not drain in 600 s")
            time.sleep(0.02)
        return time.perf_counter() - start
    finally:
        for proc in procs:
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.close()  # end of input: stop and drain
        for proc in procs:
            proc.wait(timeout=60)
            if proc.stdout is not None:
                proc.stdout.close()


class Server:
    """The run's PostgreSQL cluster: a fresh database per measurement."""

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_cluster import start_cluster

        self.cluster = start_cluster(SERVER)
        self.count = 0

    def database(self) -> str:
        self.count += 1
        name = f"bench_{self.count}"
        self.cluster.admin(f"CREATE DATABASE {name}")
        return self.cluster.url(name)

    def scalar(self, url: str, sql: str) -> Any:
        import psycopg

        with psycopg.connect(url) as conn:
            row = conn.execute(sql.encode()).fetchone()
        assert row is not None
        return row[0]

    def setting(self, name: str) -> str:
        return str(self.scalar(self.cluster.url("postgres"), f"SHOW {name}"))


def counter(server: Server | None, url: str) -> Callable[[str], int]:
    """Runs a count(*) query on the run's database (tables named without a schema)."""
    if server is None:
        path = url.removeprefix("sqlite:///")

        def count(sql: str) -> int:
            conn = sqlite3.connect(path, timeout=30)
            try:
                return int(conn.execute(sql).fetchone()[0])
            finally:
                conn.close()

        return count
    return lambda sql: int(server.scalar(url, sql.replace(" FROM ", " FROM seqengine.")))


def engine_run(server: Server | None, tmp: Path, workers: int, n: int) -> dict[str, Any]:
    url = f"sqlite:///{tmp / f'burn-{time.monotonic_ns()}.db'}" if server is None \
        else server.database()
    count = counter(server, url)
    prefill_engine(url, n)
    seconds = drain("engine", url, workers, ENGINE_THREADS,
                    lambda: count("SELECT count(*) FROM outbox") >= n)
    time.sleep(0.2)  # a late duplicate would show up in the outbox
    exactly_once = (count("SELECT count(*) FROM outbox") == n and count(
        "SELECT count(*) FROM enrollments WHERE state <> 'finished'") == 0)
    return {"per_second": n / seconds, "exactly_once": exactly_once}


def pgqueuer_run(server: Server, workers: int, n: int) -> float:
    url = server.database()
    prefill_pgqueuer(url, n)
    seconds = drain("pgqueuer", url, workers, PGQUEUER_BATCH,
                    lambda: int(server.scalar(url, "SELECT count(*) FROM pgqueuer")) == 0)
    return n / seconds


def latency_run(server: Server | None, tmp: Path, rate: float, seconds: float,
                ) -> dict[str, Any]:
    """Steps come due at `rate` per second for `seconds` (at most LATENCY_STEPS of them:
    a fast drain gets a shorter window); one worker process (waking at least every
    second) sends them; each send's lateness after its due instant. The first comes
    due after a budget for the pre-fill and the worker's start (a pre-fill that overran
    it would show as lateness that is not the scheduler's)."""
    from engine.adapters.clocks import SystemClock

    url = f"sqlite:///{tmp / 'latency.db'}" if server is None else server.database()
    n = max(10, min(LATENCY_STEPS, int(rate * seconds)))
    first = SystemClock().now() + timedelta(seconds=3 + n / 400)  # after the pre-fill
    due = [first + timedelta(seconds=i / rate) for i in range(n)]
    prefill_engine(url, n, lambda i: due[i])
    record = tmp / f"sends-{time.monotonic_ns()}.json"
    count = counter(server, url)
    drain("engine-timed", url, 1, ENGINE_THREADS,
          lambda: count("SELECT count(*) FROM outbox") >= n, extra=(str(record),))
    sent = {int(k): v for k, v in json.loads(record.read_text()).items()}
    ids = sorted(sent)  # enrollment ids in creation order: the i-th is due at due[i]
    late = sorted(max(0.0, sent[e] - due[i].timestamp()) * 1000 for i, e in enumerate(ids))
    return {"steps": n, "rate_per_second": round(rate, 1),
            "p50_ms": round(statistics.median(late), 1),
            "p99_ms": round(late[min(n - 1, int(0.99 * n))], 1)}


def run(quick: bool) -> dict[str, Any]:
    """Quick (smoke) mode also runs without PgQueuer installed (`make test` does not
    install the peers): its figures are then missing and the goal is not met."""
    n, repeats, counts = (200, 1, (1, 2)) if quick else (3000, 3, (1, 2, 4))
    peer = importlib.util.find_spec("pgqueuer") is not None
    if not peer and not quick:
        raise RuntimeError("PgQueuer is not installed: run `make bench-setup`")
    figures: dict[str, Any] = {"sqlite": {}, "postgres": {}, "pgqueuer": {}}
    exact = True
    with tempfile.TemporaryDirectory(prefix="p6-") as folder:
        tmp = Path(folder)
        server = Server()
        try:
            settings = {name: server.setting(name) for name in
                        ("server_version", "synchronous_commit", "fsync")}
            for workers in counts:
                for backend, target in (("sqlite", None), ("postgres", server)):
                    runs = [engine_run(target, tmp, workers, n) for _ in range(repeats)]
                    exact = exact and all(r["exactly_once"] for r in runs)
                    figures[backend][f"{workers}_workers"] = summary(
                        [round(r["per_second"], 1) for r in runs])
                if peer:
                    figures["pgqueuer"][f"{workers}_workers"] = summary(
                        [round(pgqueuer_run(server, workers, n), 1) for _ in range(repeats)])
            latency = {}
            for backend, target in (("sqlite", None), ("postgres", server)):
                half = figures[backend]["1_workers"]["median"] / 2
                latency[backend] = latency_run(target, tmp, half, 2 if quick else 10)
        finally:
            server.cluster.stop()
    ratios = {f"{w}_workers": round(figures["postgres"][f"{w}_workers"]["median"]
                                    / figures["pgqueuer"][f"{w}_workers"]["median"], 3)
              for w in counts if peer}
    sqlite_ok = figures["sqlite"]["1_workers"]["median"] >= 1000
    pg_ok = peer and all(r >= 0.5 for r in ratios.values())
    latency_ok = all(v["p99_ms"] <= 2000 for v in latency.values())  # poll 1 s + 1 s
    return {"P6": {
        "figure": "P6: scheduler burn-down, steps per second",
        "note": NOTE,
        "steps": n,
        "steps_per_second": figures,
        "postgres_vs_pgqueuer": ratios,
        "due_latency_at_half_load": latency,
        "every_step_sent_exactly_once": exact,
        "settings": {"postgres": settings, "sqlite_synchronous": "NORMAL (WAL)",
                     "engine_sender_threads": ENGINE_THREADS,
                     "pgqueuer_batch": PGQUEUER_BATCH,
                     "pgqueuer": _version("pgqueuer") if peer else "not installed"},
        "goal": "SQLite 1 worker >= 1,000 steps/s; PostgreSQL >= 0.5x PgQueuer at the same "
                "worker count; due latency p99 <= poll interval + 1 s at half load",
        "goal_met": bool(sqlite_ok and pg_ok and latency_ok and exact),
        "machine": machine(),
    }}


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
