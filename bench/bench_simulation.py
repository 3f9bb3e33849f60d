"""P4: simulation throughput, executed step actions per second, and peak memory.

The same process three ways, each in its own subprocess (so peak RSS is its own):

* ours: `Simulation` (engine.runtime.simulation) on the real engine: the in-memory
  store, the simulated clock, the chance delivery (no failures), a 5-step sequence of
  emails with weekday and hour delays for N enrollments arriving over 5 days, an actor
  in America/New_York with US holidays and a send window;
* SimPy: one process per enrollment that waits each step's delay, computed with plain
  weekday arithmetic in UTC (no zone, no holidays, no send window), then "executes";
* a bare heapq event loop with the same weekday arithmetic: the floor.

    python -m bench.bench_simulation [--quick]          prints the P4 entry as JSON
    python -m bench.bench_simulation --model M --n N    one contender (used internally)
"""

import heapq
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, ratio

FIGURE = "P4: simulation, executed step actions per second (real engine, simulated clock)"
GOAL = ">= 1x SimPy (must), >= 2x SimPy (goal); peak memory reported"
NOTE = (
    "Rates are per CPU second of each model's own process (the machine is shared; wall "
    "times are in the table too). Where the engine's time goes (pyinstrument, 100,000 "
    "enrollments, 2026-12-06, on a loaded machine): 54% in SequenceEngine.advance: the "
    "email fast path (`_send_email`, engine/app/in_process.py) 34%, of which its own "
    "code 12%, recording 10% (re-planning 6%: a step done on time leaves the later "
    "plans standing, a late one, such as a first step planned to the millisecond and "
    "recorded to the second, re-plans until a plan comes out unchanged), delivering "
    "5% (the simulator's tally included), starting the step 3%; the due index 12% "
    "(taking 8%, half of it the heap pop; putting back 3.5%); the loop 4%. 33% in "
    "enroll: starting the enrollment 16% (planning the five steps 9%), the view 4%, "
    "saving 3%, the write transaction and the ongoing check ~6% (both cheaper since "
    "that profile). The runner's event heap 3.5%, its own loop 2%, the arrivals "
    "1.5%, this benchmark's count of executed actions 2%. cProfile counts 67 calls "
    "per executed step (C calls included), from 92. This round (same-run sets at "
    "100,000 on a shared machine, engine before / after / SimPy, actions per "
    "CPU s): 42,324 / 56,174 / 71,646, 41,726 / 53,134 / 65,735 and 38,040 / 55,229 / "
    "69,452 (load 6-10), then 45,024 / 64,921 / 88,428, 45,177 / 57,428 / 71,548 and "
    "42,747 / 51,722 / 85,261 (load 3-4): 0.50-0.63x SimPy before, 0.61-0.81x after, "
    "1.21-1.45x the rate, peak memory unchanged (194-195 MB). What went: full and "
    "middle-generation garbage collections "
    "(the simulator scans its middle generation every 1,000 young collections, not "
    "20: it took 9 scans of up to a million survivors and a full collection of every "
    "live object, ~15% of a run); a Protocol isinstance check in every Executor "
    "built, one per advance (the in-process executor is now made once per set of "
    "engine parts, ~10% at 20,000); the send request set one slot descriptor at a time (now a "
    "writable twin of its slots, re-classed: 0.28 us from 0.96); the write "
    "transaction's @contextmanager generator (~2 us a write); random.choices per "
    "arrival draw (the same numbers, by bisect); two lifecycle calls per "
    "transition (their tables read inline). What is left has no single large item: "
    "the due index's heap pop (~5%), five plans per enrollment (~9%, ~1 us each), "
    "the view every create returns (4%), and the state machine's own "
    "bookkeeping per step; 1x needs a fifth to a third less CPU a step. Earlier rounds: "
    "0.22x (three units of work and a lease round-trip per step), 0.28x (the "
    "executor's _dispatch/_settle with a Batch, a Lease and a Claim per step), 0.53x "
    "on the quiet machine (the email fast path)."
)
STEPS = [(0, "weekdays"), (1, "weekdays"), (2, "weekdays"), (4, "hours"), (3, "weekdays")]
DAY = 86400.0
START = 1772438400.0  # 2026-03-02T08:00:00Z, a Monday
SEED = 4


def add_weekdays(t: float, n: int) -> float:
    """Roll t to a weekday (keeping the time of day), then add n weekdays: O(1)."""
    day, rest = divmod(t, DAY)
    weekday = (int(day) + 3) % 7  # 1970-01-01 was a Thursday
    if weekday >= 5:
        day += 7 - weekday
        weekday = 0
    weeks, extra = divmod(n, 5)
    day += weeks * 7 + extra + (2 if weekday + extra >= 5 else 0)
    return day * DAY + rest


def delay(t: float, n: int, unit: str) -> float:
    return add_weekdays(t, n) if unit == "weekdays" else t + n * 3600.0


def arrivals(n: int) -> list[float]:
    rng = random.Random(SEED)
    return [START + rng.uniform(0, 5 * DAY) for _ in range(n)]


def run_heapq(n: int) -> int:
    heap = [(delay(t, *STEPS[0]), i, 0) for i, t in enumerate(arrivals(n))]
    heapq.heapify(heap)
    executed = 0
    while heap:
        t, i, position = heapq.heappop(heap)
        executed += 1
        if position + 1 < len(STEPS):
            heapq.heappush(heap, (delay(t, *STEPS[position + 1]), i, position + 1))
    return executed


def run_simpy(n: int) -> int:
    import simpy

    env = simpy.Environment(initial_time=START)
    executed = 0

    def enrollment(arrives: float) -> Any:
        nonlocal executed
        yield env.timeout(arrives - env.now)
        for count, unit in STEPS:
            yield env.timeout(delay(env.now, count, unit) - env.now)
            executed += 1

    for arrives in arrivals(n):
        env.process(enrollment(arrives))
    env.run()
    return executed


def scenario(n: int) -> Any:
    from engine.runtime.simulation.scenario import read_scenario

    steps = [
        {
            "delay_from_previous_step": count,
            "delay_from_previous_step_unit": unit,
            "action_type": "automated_email",
            "action_properties": {"email_template_id": position + 1},
        }
        for position, (count, unit) in enumerate(STEPS)
    ]
    return read_scenario(
        {
            "name": "P4",
            "start": "2026-03-02T08:00:00Z",
            "days": 40,
            "sequences": [{"name": "five emails", "steps": steps}],
            "actors": [
                {
                    "name": "rep",
                    "time_zone": "America/New_York",
                    "holidays": "US",
                    "send_window": "08:00-18:00",
                    "daily_email_limit": 10**9,
                }
            ],
            "arrivals": {"count": n, "period_days": 5},
            "report": {"overdue_snapshots": False},
        }
    )


def run_engine(n: int) -> int:
    from engine.runtime.simulation.runner import Simulation

    outcome = Simulation(scenario(n)).run()
    executed = sum(
        action.executed_at is not None for v in outcome.views for action in v.enrollment.actions
    )
    assert executed == n * len(STEPS), executed
    return executed


MODELS = {"engine": run_engine, "simpy": run_simpy, "heapq": run_heapq}


def measure(model: str, n: int) -> dict[str, Any]:
    """Runs one contender in a fresh interpreter: wall time, actions, peak RSS."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_simulation", "--model", model, "--n", str(n)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return dict(json.loads(done.stdout))


def run(quick: bool) -> dict[str, Any]:
    n = 2_000 if quick else 100_000
    results = {model: measure(model, n) for model in MODELS}
    ours, simpy = results["engine"]["actions_per_second"], results["simpy"]["actions_per_second"]
    versus = ratio(ours, simpy)
    return {
        "id": "P4",
        "figure": FIGURE,
        "goal": GOAL,
        "note": NOTE,
        "enrollments": n,
        "steps": len(STEPS),
        "results": results,
        "ratios": {
            "engine_vs_simpy": versus,
            "engine_vs_heapq": ratio(ours, results["heapq"]["actions_per_second"]),
        },
        "goal_met": versus >= 2.0,
        "must_met": versus >= 1.0,
        "machine": machine(),
    }


def main(argv: list[str]) -> int:
    if "--model" in argv:
        model, n = argv[argv.index("--model") + 1], int(argv[argv.index("--n") + 1])
        started, cpu_started = time.perf_counter(), time.process_time()
        executed = MODELS[model](n)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            json.dumps(
                {
                    "actions": executed,
                    "wall_seconds": round(seconds, 3),
                    "cpu_seconds": round(cpu_seconds, 3),
                    # CPU time: the machine is shared, and every model is one busy thread
                    "actions_per_second": round(executed / cpu_seconds),
                    "actions_per_wall_second": round(executed / seconds),
                    "peak_rss_mib": round(peak_kib / 1024, 1),
                }
            )
        )
        return 0
    print(json.dumps(run("--quick" in argv), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
