"""The prose docs/benchmarks.md shows above the P5 figures (bench/__main__.py puts a
figure's `note` there): what a request costs, layer by layer, and where the limit is.

The table is written from the run's own measurements (`note(entry)`), so it is
always the figures below it; the sentences after it are the profiles' findings,
dated, each measured as it says (older ones that no longer hold were dropped).
"""

from typing import Any

ROUTES = (("GET one", "get_one"), ("page of 25", "get_page_25"), ("POST create", "post_create"))
LAYERS = ("http", "auth", "store", "app", "render")
INTRO = (
    "**Where a request's time goes.** `in_process` (below) is the app called as granian "
    "calls it, with no server or socket: microseconds a request, unprofiled, split by each "
    "layer's share of the own time under cProfile (bench/http_layers.py). http: Falcon, "
    "the gate (request id, headers, rate limit, scope), routing, the resource and, for a "
    "POST, the body's hand-over to its reader thread; auth: the bearer check besides its "
    "store read; store: the storage adapter and its driver (transactions, statements, the "
    "catalog cache, row decoding); app: the use case, the domain and the overdue "
    "judgement; render: the wire JSON. Served: wrk at 32 connections, the median of the "
    "repeats, at `serve`'s default of 512 blocking threads. In this run:"
)

FINDINGS = [
    # served vs in process
    "**Served costs more than in process.** Falcon's own hello-world costs ~7 us in "
    "process but ~19-24 us of the server's core served (42-53k rps in quiet runs): "
    "granian's socket, HTTP parsing and the hand-over to a Python thread, which no app "
    "code can win back. With wrk at 32 connections the server's own CPU a request (user + system, "
    "psutil, 2026-12-06) was 22-43 us for the hello-world, 102-150 us for GET one and "
    "397-492 us for a page, against ~7, ~43 and ~285 in process; perf put 45% of a served "
    "GET one in libpython, 30% in the kernel, 11% in granian and 5.5% in SQLite (all before "
    "GET one's fast path and the page memo; after them, 43-56 us and 161-216 us).",
    # threads and the tail
    "**Threads set the tail.** At 32 connections granian's default of 512 blocking threads "
    "keeps ~32 busy, and every busy thread takes its turn at the GIL: at each sqlite3 call "
    "and each of granian's callbacks the GIL passes between OS threads. With 1 or 2 "
    "threads the work stays on one thread (2026-12-06, third session: five rounds of 3-4 s "
    "a route, each thread count beside 512 in the same round, a shared 2-core machine at "
    "load 3-11): Falcon's hello-world served 2.1-5.1x the rps of 512 threads, GET one "
    "1.2-2.6x, a page of 25 1.2-2.7x and POST create 0.9-2.0x; the p99 of GET one fell "
    "from 28-42 ms to 9-20 ms and the page's from 52-100 ms to 21-30 ms. 4 and 8 threads "
    "served as much but with a page p99 of 27-62 ms; 32 was like 512. A lock around the "
    "app (one request in it at a time, 512 threads; tried in the second session) did not "
    "reproduce it. The default stays 512, because a client stalling mid-body holds its "
    "thread until it goes (docs/http.md, Blocking threads), so the goal is judged there; "
    "`ours_2_blocking_threads` is `serve --blocking-threads 2`, for a server behind a "
    "proxy that buffers request bodies (2 rather than 1: the same figures within the "
    "noise, and one slow request does not stop the other). Reading bodies on granian's "
    "event loop instead (its RSGI interface, the app on the loop's thread: the slow-client "
    "protection with one thread) was tried and not kept: about as 2 WSGI threads in a "
    "quiet round, behind them under load (docs/http.md, Blocking threads). At 32 "
    "connections a closed "
    "loop's mean latency is 32 / rps, so a p99 within 20 ms needs ~2.5k+ rps and a tight "
    "spread: the page is at the edge even with few threads. Garbage collection is not the "
    "tail: a request frees what it allocates, so 10,000 served requests of each route "
    "with the start-up heap frozen ran no collection but POST's at Python's default "
    "threshold of 700 (2 young collections per 1,000 requests, 0.03 ms each; `serve` uses "
    "10,000: `settle_gc`).",
    # GET one
    "**GET one** answers from a kept body when nothing it depends on changed "
    "(engine/adapters/http/fast_get.py; 2026-12-06, third session): one SELECT alone in "
    "autocommit reads the catalog version and the enrollment's row; if both equal what "
    "the kept body was rendered from, the token's memo was read at that version, and the "
    "overdue judgement still holds, the bytes go out without Falcon, the gate's "
    "transaction or the use case. A hit costs ~14 us in process (CPU time, three runs at "
    "load 3-10): the statement with its pool hand-out 8.2-8.8 us (the statement alone "
    "~7 us; a bare `SELECT version` costs 3.7 us: each read snapshot has a fixed cost), "
    "WSGI glue and headers ~2 us, the rate limit 0.9 us, path, request id, clock and "
    "stamp compare ~1 us, the token memo 0.1 us. Served, the server's own CPU a request "
    "was 43-56 us against 23-38 us for the hello-world. Falcon's path (a miss, or a "
    "store without the fast path) is the row below it: the shared read with the token "
    "check ~9.5 us, the use case 11 us, render 2.9 us, SHA-256 1.1 us, the rate limit "
    "0.9 us, Falcon itself ~4.7 us (second session). A page of 25 now has the same kind "
    "of fast path (below).",
    # the page
    "**A page of 25** answers from its kept body in front of Falcon too (2026-12-06, "
    "fourth session; engine/adapters/http/fast_get.py): one SELECT alone in autocommit "
    "reads the catalog version and the enrollments version (SQLite migration 4: triggers "
    "bump it on every write of `enrollments` a page shows and of `step_lists`; the "
    "scheduler's claims and `due_at` leave it), and equal to the kept page's, with the "
    "token memo and the overdue span as for GET one, the bytes go out. Falcon's path "
    "(engine/adapters/http/page_memo.py) keeps the pages: it checks the two versions "
    "before reading the page's 26 rows, and re-stamps a body whose rows did not change. "
    "In process a hit costs ~10 us (1.2-1.5x Falcon's hello-world in four runs on the "
    "shared, loaded machine; GET one's hit 1.75-2.1x), Falcon's path with its memo's hit "
    "~30 us (3.6-4.4x); the page before (its memo's hit read and compared the rows) cost "
    "13.2-13.7x the hello-world, in three runs alternating with this one's 1.35-1.8x. A "
    "miss decodes and renders 25 enrollments: store and render dominate, per row; the "
    "render is at Python's floor, ~3 us an enrollment. The triggers cost writers ~1 us a "
    "row written (a bare UPDATE of an enrollment 5.6-5.9 us against 4.5-4.7 without them,"
    " one outlier each aside, five alternating runs): within the noise of POST create in "
    "process (248-286 us, one outlier aside, against 245-322 without) and of P6's SQLite "
    "drain with one worker (5.6-8.9k against 3.4-8.9k steps/s, three alternating runs "
    "each). Served, the page is now bound by its ~36 KB: in ten interleaved rounds of 3 s"
    " at load 13-18, Falcon's hello-world answering the page's own bytes "
    "(`page_bytes_falcon_granian`) served 3.8-5.8k rps with a p99 of 12-85 ms, the page "
    "3.5-5.0k rps and 13-33 ms (0.76-0.97x the bytes alone, round by round), the page "
    "before this fast path 1.7-2.5k rps and 31-67 ms (the page now 1.5-2.4x it), the "
    "hello-world 5.1-7.6k rps. What is left of its tail is sending those bytes through "
    "granian and a Python thread at 512 threads, not our code.",
    # POST
    "**POST create** on SQLite has a fast path in front of Falcon "
    "(engine/adapters/http/fast_post.py: the token memo with one lone `SELECT version`, "
    "the rate limit, the body through its kept reader thread, the parse, the group-"
    "committed create; anything else goes on to Falcon with what was done attached). In "
    "process a create costs ~190-205 us (fourth session). **The floors**, each measured "
    "alone (fourth session): granian's own served cost ~26 us a request; the body's "
    "hand-over to its reader thread (kept for the 408 deadline: granian never times a "
    "body read out, its issue #728) 15-36 us served; BEGIN IMMEDIATE + this row's "
    "INSERT + COMMIT 36-44 us (15-16 us a create in batches of 16); the use case's "
    "Python ~40 us. 0.5x GET one asks ~78 us of the server a create: out of reach for "
    "a create that is durable before its 201 and whose body keeps its 408. **Where the "
    "served time goes** (2026-12-06, fifth session; perf record -g on the served "
    "process, wrk at 32 connections, 512 threads, 3.8k samples at ~2.9k rps under perf): "
    "libpython 36%, the kernel 35%, SQLite 11%, granian 8%, libc 7% (~264 us of CPU a "
    "create under perf). In the kernel: context switches "
    "(finish_task_switch alone 15% of all samples) from futex waits 11% (the GIL and "
    "the body's and the batch's hand-over locks), granian's own sched_yield spinning "
    "6%, the WAL's pwrite 5%, the socket's writev 3%, SQLite's fcntl locks 2%, the "
    "checkpoints' fdatasync 1.6%. py-spy (--native --idle, every thread) showed where "
    "threads wait: 43% of its samples are idle body readers waiting for a hand-over, "
    "20% creates waiting in their batch for its COMMIT. By this profile the extra "
    "100-150 us are mostly thread wake-ups and GIL passes (a create crosses up to "
    "three threads: granian's, its body reader, its batch's leader) and the WAL's "
    "writes, not Python work. **The tail**: "
    "SQLite's auto-checkpoint ran inside the COMMIT that takes the WAL past 1000 pages, "
    "under the write lock and before any caller of that batch was answered; with "
    "checkpoints off altogether (an experiment, not a setting) POST's p99 was "
    "15.9-19.9 ms (six rounds of seven 15.9-18.0) against 18.5-20.5 ms with them, "
    "3.4-4.8k rps against 3.7-4.6k, in seven interleaved rounds of 4 s over two runs "
    "at load 7-16 (2 blocking threads "
    "beside them: 14.2-21.1 ms). Moving the checkpoint out of the COMMIT (connections "
    "with wal_autocheckpoint=0; the writer whose commit takes the rows written past "
    "1000 runs a PASSIVE checkpoint after releasing the write lock, a batch's leader "
    "once its batch is answered) was tried and not kept: against the inline checkpoint "
    "in the same runs (seven rounds of 4 s each, load 3-17, the test suite running "
    "beside them) it served 2.9-4.3k rps (median 3.2k) with a p99 of 18.8-31.6 ms "
    "(median 26.8), the inline one 2.8-4.7k (3.7k) and 19.6-44.8 ms (23.4): no gain "
    "shown. **A shorter WAL** was what helped (2026-12-06, fifth session, the lead): "
    "the checkpoint stays in the COMMIT, but it comes after 100 pages instead of "
    "SQLite's default 1000, so each one is short. Same runs, rounds of 5 s at 32 "
    "connections and 512 threads (load 10-29): 1000 pages served 4.3-4.8k rps with a "
    "p99 of 17.8-28.5 ms (eleven rounds), 250 pages 4.1-5.2k and 16.3-22.0 ms "
    "(twelve), 100 pages 5.1-5.4k and 13.7-15.8 ms (seven), 25 pages 5.0-5.5k and "
    "11.7-13.0 ms (three); a larger WAL was worse (10,000 pages: p99 33.6-39.6 ms). The "
    "price is the scheduler's: its claims write more pages a COMMIT, and the SQLite "
    "burn-down (4,000 steps, three alternating runs) drained 5.3-7.3k steps/s at 100 "
    "pages against 8.0-9.1k at 1000 with one worker, 7.6-7.9k against 8.6-9.5k with "
    "two (the full run after it: 8,010 with one worker, the run before it 5,872: the "
    "burn-down's own spread is that wide). In process, one create after another with no "
    "batch to share it, a create costs more: ~267 us in the full run after it against "
    "~218 in the one before, a checkpoint and its two fsyncs every ~25 creates. "
    "`SqliteStore(wal_autocheckpoint=100)` is the default (docs/storage.md). A "
    "unique partial index for the one-ongoing rule would save its check (~6 us; not "
    "made).",
    # PostgreSQL
    "**PostgreSQL**: the store is ~80-90% of every request. Each statement is a round "
    "trip (~45 us on this loopback): GET one pipelines BEGIN and the version check, then "
    "the SELECT, then ROLLBACK; a create waits for its commit's WAL flush (fsync and "
    "synchronous_commit on), and every create holds the enrollment id allocator's row "
    "until it commits, so creates commit one flush after another whatever the server "
    "does: that allocator (ids in commit order) is PostgreSQL's floor for POST.",
]


def _cell(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _served(route: dict[str, Any]) -> str:
    return f"{route['rps']['median']:,} rps, {route['p99_ms']['median']:.1f} ms"


def _row(name: str, store: str, measured: dict[str, Any]) -> str:
    total = measured["us_per_request"]
    parts = " | ".join(_cell(total * measured["shares"][layer]) for layer in LAYERS)
    return f"| {name} | {store} | {_cell(total)} | {parts} |"


def table(entry: dict[str, Any]) -> list[str]:
    """A row per route and store: in-process us by layer, and the served rps and p99."""
    layers = entry["in_process"]
    rows = ["| request | store | in process, us | http | auth | store | app | render "
            "| served: rps, p99 |", "|---|---|---|---|---|---|---|---|---|"]
    hello = entry["peers"]["hello_world"]["falcon_granian"]
    rows.append(f"| Falcon's hello-world | none | {_cell(layers['falcon_hello_us'])} | "
                f"{_cell(layers['falcon_hello_us'])} | | | | | {_served(hello)} |")
    page_bytes = entry["peers"].get("page_bytes_falcon_granian")
    if page_bytes is not None:  # the floor of sending a page's bytes
        rows.append(f"| Falcon's hello-world, the page's bytes | none | | | | | | "
                    f"| {_served(page_bytes)} |")
    for store, label, served in (("sqlite", "SQLite", entry["ours"]),
                                 ("postgres", "PostgreSQL", entry["ours_postgres"]["1_processes"])):
        for name, route in ROUTES:
            rows.append(f"{_row(name, label, layers[store][route])} {_served(served[route])} |")
            if store == "sqlite" and f"{route}_without_fast_path" in layers[store]:
                rows.append(_row(f"{name}, Falcon's path", label,  # for comparison
                                 layers[store][f"{route}_without_fast_path"]) + " |")
    return rows


def note(entry: dict[str, Any]) -> str:
    """The P5 note for a run's entry (its measurements, without the note)."""
    return "\n\n".join([INTRO, "\n".join(table(entry)), *FINDINGS])
