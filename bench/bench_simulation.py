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
import importlib
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
    "times are in the table too). Where the engine's time goes (cProfile, 100,000 "
    "enrollments, 2026-12-06, third round, loaded machine): 62% in SequenceEngine.advance: "
    "the email fast path (`_send_email`, engine/app/in_process.py) 38%, of which its own "
    "code 15%, recording 11% (re-planning 5.5%: a first step planned to the millisecond "
    "and recorded to the second re-plans until a plan comes out unchanged), delivering "
    "6% (the simulator's tally 3.5%), starting the step 2.5%; the due index 15% "
    "(taking 6.5%, of it the heap pop 2.7%; putting back 9%, two calls a save); the loop "
    "6%. 32% in enrolling: starting the enrollment 18% (planning the five steps 11%, "
    "~1 us a plan), saving it 2%, the write transaction ~3%. The arrivals 2%. This round "
    "(seven same-run sets at 100,000, 2026-12-06, load 2.5-7, the test suite running "
    "beside; engine before / after / SimPy, actions per CPU s): 55,204 / 64,559 / "
    "68,816, 51,557 / 65,612 / 72,299, 58,957 / 72,870 / 77,261, 63,188 / 74,830 / "
    "85,090, 52,465 / 74,208 / 79,138, 62,013 / 73,617 / 78,605 and 63,220 / 67,116 / "
    "74,769: 1.06-1.41x the rate, 0.88-0.94x SimPy (the code before: 0.66-0.85x); peak "
    "memory 199 MB (from 195: the packed keys). What went: the due index's heap of "
    "(datetime, id) tuples (now plain ints, the due instant in microseconds and the id "
    "packed so that they order as the pairs: a pop and a push on 100,000 entries ~1.4 "
    "us, from ~3-4 us, most of it memory stalls); 100,000 arrivals on the simulator's "
    "event heap (drawn up front and sorted; the heap holds the next one only); the view "
    "every enroll returned (`start_enrollment`); reply draws when no step has a chance; "
    "keyword construction of a new enrollment. What is left has no single large item: "
    "planning the chain of steps in one call (~3%), the observed store's second call "
    "per save, the user's calendar read through its lru cache per step (~2%), the "
    "write transaction, and the state machine's own bookkeeping per step. Earlier "
    "rounds: 0.22x, 0.28x, 0.53x (the email fast path), 0.92x on the quiet machine "
    "(fewer garbage collections, the in-process executor built once, cheaper send "
    "requests and write transactions). Fourth round, enrolling (2026-12-06, load 2-10): "
    "a new enrollment measured alone (every arrival of a 100,000 run applied at its "
    "instant, no step run; min of three, alternating runs) ~15.2 -> ~12.0 us (92 -> 84 "
    "calls): instants truncated to the second or millisecond by a difference rather than "
    "datetime.replace, whose keyword parsing cost ~0.65 us (now ~0.2; twice an "
    "enrollment); plan rolls a result after the closing (a quarter of the arrivals, and "
    "4-hour steps that end after it) to the next business day's opening from the windows "
    "the calendar remembered (~2.4 -> ~0.75 us) and unpacks the five day-table fields it "
    "reads from a plain tuple (~155 -> ~45 ns a plan); the one-write path in the unit of "
    "work's own `with` (~0.8 -> ~0.45 us). Whole run, fifteen same-run sets at 100,000 "
    "(load 2-10, so wide): this code 0.77-1.23x the previous code's rate, median 1.10x; "
    "SimPy 0.76-1.14x, median 0.95x (the previous code beside it: 0.66-1.07x, median "
    "0.88x); 66.0 -> 64.2 calls per executed step. Fourth round, the step loop: each model's "
    "libraries are now imported before its CPU timer starts, every model alike (the "
    "engine's import, ~0.09 s of CPU, and that of `holidays`, ~0.05 s, had counted as "
    "simulation time: ~2% of a 100,000 run; the same-run rates below were measured "
    "before `holidays` joined them). In the engine, the email fast path no longer "
    "reads the simulated clock after a send that completed at once (two calls a "
    "step), the due index sums "
    "its packed key from the timedelta's fields (~60 ns less a save), the simulator "
    "asks for its next event before each piece of due work only when the engine's work "
    "can make one (replies, task steps, resumes; P4 has none), and its tally reuses the "
    "last send's key for the same instant and actor. Counted with valgrind (the "
    "instructions of 12,000 enrollments less those of 2,000; the shared machine's "
    "timings cannot resolve a few per cent): 498,289 -> 480,823 instructions per "
    "enrollment and its five steps, -3.5%. Same-run CPU rates at 100,000 (load 3-4, "
    "2026-12-06; the code before on the bench before / the code before on this bench / "
    "after / SimPy): 68,897 / 77,213 / 77,810 / 85,163, 74,310 / 76,528 / 74,267 / "
    "78,391, 69,061 / 75,914 / 74,454 / 78,724 and 72,262 / 76,930 / 75,843 / 79,166: "
    "0.91-0.96x SimPy after, the engine's own change within the noise of single runs. "
    "The simulator's output is unchanged (every enrollment, task, lease, send counter "
    "and tally of two_reps, year_end and P4, seeds 1 and 2, against the code before)."
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
# What each model's function imports: imported before its CPU timer starts, every model
# alike, so a rate counts the simulation and not the libraries' import (the engine's
# ~0.09 s of CPU, and `holidays`' ~0.05 s, which the engine imports when it builds the
# first calendar with holidays: together ~2% of its time at 100,000 enrollments).
# Building the actor's calendar stays inside (validating the holiday country, ~0.1 s
# once): that is the engine's own work for this scenario.
IMPORTS = {
    "engine": (
        "engine.runtime.simulation.runner", "engine.runtime.simulation.scenario", "holidays"
    ),
    "simpy": ("simpy",),
    "heapq": (),
}


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
        for module in IMPORTS[model]:
            importlib.import_module(module)
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
