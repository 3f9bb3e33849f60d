"""Everything a simulation leaves behind, as one JSON document: to prove a change to
the engine or the simulator leaves P4 and the example scenarios byte-identical.

    python -m bench.simulation_state OUT.json     (before and after a change; then cmp)

Every enrollment, task, lease, send counter, outbox message and due index entry of the
store, and the simulator's tally and final instant, of the examples (seeds 1 and 2) and
of P4 at 2,000 enrollments. Each run prints its label, size and a short digest.
"""

import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_simulation import scenario as p4_scenario
from engine.runtime.simulation.runner import Outcome, Simulation
from engine.runtime.simulation.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios"


def plain(x: Any) -> Any:
    """`x` as JSON: dataclasses field by field, mappings and sets sorted, leaves by repr."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return sorted((repr(plain(k)), plain(v)) for k, v in x.items())
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    if isinstance(x, set | frozenset):
        return sorted(repr(plain(v)) for v in x)
    return repr(x)


def state(simulation: Simulation, outcome: Outcome) -> str:
    s = simulation.store
    return json.dumps(
        {
            "enrollments": plain(s.enrollments), "tasks": plain(s.tasks),
            "claims": plain(s.claims), "sends": plain(dict(s.sends)),
            "outbox": plain(s.outbox), "due": plain(s.due_pushed),
            "tally": plain(outcome.tally), "end": repr(outcome.end),
            "clock": repr(simulation.clock.now()),
        },
        sort_keys=True,
    )


def main(argv: list[str]) -> int:
    runs = [
        (f"{name}:{seed}", Simulation(load_scenario(EXAMPLES / f"{name}.yaml"), seed=seed))
        for name in ("two_reps", "year_end")
        for seed in (1, 2)
    ]
    runs.append(("P4:2000", Simulation(p4_scenario(2000))))
    found = {}
    for label, simulation in runs:
        found[label] = text = state(simulation, simulation.run())
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        print(label, len(simulation.store.enrollments), digest)
    Path(argv[0]).write_text(json.dumps(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
