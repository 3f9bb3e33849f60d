"""Runs every benchmark in one process run and writes bench/results.json and
docs/benchmarks.md. `python -m bench [--quick] [--only P1,P3]`."""

import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["bench_lifecycle", "bench_planning", "bench_render", "bench_startup", "bench_http"]


def collect(quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in MODULES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as missing:
            print(f"skipping {name}: {missing}", file=sys.stderr)
            continue
        print(f"running {name} ...", file=sys.stderr)
        produced = module.run(quick)
        results.update(produced if "figure" not in produced else {produced["id"]: produced})
    return dict(sorted(results.items()))


def markdown(results: dict[str, Any], quick: bool) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); every figure is measured side by side "
        "with its peers in the same run. Times are medians of several repeats (min-max in "
        "`bench/results.json`)." + (" **Quick (smoke) mode: small samples.**" if quick else ""),
        "",
        "| id | figure | goal | met | measured (ours / peers) |",
        "|---|---|---|---|---|",
    ]
    for key, entry in results.items():
        measured = {
            k: v
            for k, v in entry.items()
            if k not in ("figure", "goal", "goal_met", "machine", "note", "id")
        }
        lines.append(
            f"| {key} | {entry['figure']} | {entry['goal']} | "
            f"{'yes' if entry['goal_met'] else '**no**'} | `{json.dumps(measured)}` |"
        )
    first = next(iter(results.values()), {})
    lines += ["", f"Machine: `{json.dumps(first.get('machine', {}))}`", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    results = collect(quick)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (ROOT / "docs" / "benchmarks.md").write_text(markdown(results, quick))
    print(json.dumps({k: v["goal_met"] for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
