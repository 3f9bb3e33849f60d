"""Runs every benchmark in one process run and writes bench/results.json and
docs/benchmarks.md. `python -m bench [--quick] [--only bench_scheduler,...]`."""

import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# each module and the figures it measures
MODULES = {
    "bench_lifecycle": ["P1", "P2"],
    "bench_planning": ["P3"],
    "bench_simulation": ["P4"],
    "bench_render": ["P8"],
    "bench_startup": ["P7"],
    "bench_http": ["P5"],
    "bench_scheduler": ["P6"],
}


def collect(quick: bool, only: set[str] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, figures in MODULES.items():
        if only is not None and not only & set(figures):
            continue
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as missing:
            print(f"skipping {name}: {missing}", file=sys.stderr)
            continue
        print(f"running {name} ...", file=sys.stderr)
        produced = module.run(quick)
        results.update(produced if "figure" not in produced else {produced["id"]: produced})
    return dict(sorted(results.items()))


def _leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Flatten a figure's measurements to (dotted path, value); a {median, min, max}
    summary becomes one row "median (min-max)"."""
    if isinstance(value, dict):
        if {"median", "min", "max"} <= set(value):
            return [(path, f"{value['median']} ({value['min']}-{value['max']})")]
        rows: list[tuple[str, Any]] = []
        for key, inner in value.items():
            rows += _leaves(inner, f"{path}.{key}" if path else str(key))
        return rows
    return [(path, value)]


SKIPPED = {"id", "figure", "goal", "goal_met", "machine", "note", "date"}


def markdown(results: dict[str, Any], quick: bool) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`): every figure is measured side by side "
        "with its peers in the same run, on the machine below. Timings are "
        "`median (min-max)` over several repeats; `bench/results.json` holds the same data."
        + (" **Quick (smoke) mode: small samples.**" if quick else ""),
        "",
        "| id | figure | goal | met |",
        "|---|---|---|---|",
    ]
    titles = {key: str(entry["figure"]).removeprefix(f"{key}: ") for key, entry in results.items()}
    for key, entry in results.items():
        met = "yes" if entry["goal_met"] else "**no**"
        if not entry["goal_met"] and entry.get("must_met"):  # a floor below the goal
            met = "must: yes; goal: **no**"
        lines.append(f"| {key} | {titles[key]} | {entry['goal']} | {met} |")
    for key, entry in results.items():
        lines += ["", f"## {key}: {titles[key]}", ""]
        if entry.get("note"):
            lines += [str(entry["note"]), ""]
        lines += ["| measure | value |", "|---|---|"]
        for path, value in _leaves({k: v for k, v in entry.items() if k not in SKIPPED}):
            lines.append(f"| {path} | {value} |")
    first = next(iter(results.values()), {})
    lines += ["", f"Machine: `{json.dumps(first.get('machine', {}))}`", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = set(argv[argv.index("--only") + 1].split(",")) if "--only" in argv else None
    results = collect(quick, only)
    if only is not None:  # the other figures stay as the last full run measured them
        stored = ROOT / "bench" / "results.json"
        earlier = json.loads(stored.read_text()) if stored.exists() else {}
        results = dict(sorted({**earlier, **results}.items()))
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (ROOT / "docs" / "benchmarks.md").write_text(markdown(results, quick))
    print(json.dumps({k: v["goal_met"] for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
