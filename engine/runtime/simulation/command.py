"""`seqengine simulate`: load, run with a progress bar, write the results, report."""

import argparse
import json
import sys
from pathlib import Path

EXTRA = "install the sim extra: pip install 'seqengine[sim]'"


def _require_extra() -> None:
    for module in ("yaml", "matplotlib", "tqdm"):
        try:
            __import__(module)
        except ModuleNotFoundError:
            raise ValueError(f"simulate needs {module}: {EXTRA}") from None


def simulate(args: argparse.Namespace) -> int:
    _require_extra()
    from tqdm import tqdm

    from engine.runtime.simulation.outputs import write_all
    from engine.runtime.simulation.runner import Simulation
    from engine.runtime.simulation.scenario import load_scenario
    from engine.runtime.simulation.schema import ScenarioError

    if args.enrollments is not None and args.enrollments < 0:
        raise ScenarioError(f"--enrollments must be 0 or more, got {args.enrollments}")
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"--seed must be 0 or more, got {args.seed}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"--out {out} is a file; give a folder for the results")
    scenario = load_scenario(args.scenario)
    simulation = Simulation(scenario, enrollments=args.enrollments, seed=args.seed)
    days = round((scenario.end - scenario.start).total_seconds() / 86400)
    quiet = args.json or not sys.stderr.isatty()
    with tqdm(total=days, unit="day", desc="simulating", disable=quiet, file=sys.stderr) as bar:
        outcome = simulation.run(progress=lambda day: bar.update(day - bar.n))
        bar.update(days - bar.n)
    summary = write_all(outcome, out)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    reasons = ", ".join(f"{k} {v}" for k, v in summary["finished_reasons"].items()) or "none"
    print(
        f"{summary['enrollments']} enrollments of '{scenario.name}' (seed {summary['seed']}), "
        f"{summary['start']} to {summary['end']}"
    )
    print(f"finished: {reasons}")
    print(f"emails sent {summary['emails']['sent']}, tasks created {summary['tasks']['created']}")
    print(f"results in {out.resolve()}: {', '.join(summary['files'])}, summary.json")
    return 0
