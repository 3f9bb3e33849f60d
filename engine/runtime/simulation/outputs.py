"""Writes a run's results into a folder: summary.json, CSV tables and PNG plots."""

import csv
import json
from pathlib import Path
from typing import Any

from engine.runtime.simulation import results
from engine.runtime.simulation.runner import Outcome


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_all(outcome: Outcome, out: Path, *, plots: bool = True) -> dict[str, Any]:
    """Everything a run produces; returns the summary with the files it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    summary = results.summary(outcome)
    tables = {
        "funnel.csv": summary["funnel"],
        "workload.csv": summary["workload"],
        "overdue.csv": summary["overdue"]["by_day"],
        "enrollments.csv": results.enrollment_rows(outcome),
        "finished_reasons.csv": [
            {"finished_reason": k, "enrollments": v} for k, v in summary["finished_reasons"].items()
        ],
    }
    for name, rows in tables.items():
        write_csv(out / name, rows)
    written = sorted(tables)
    if plots:
        from engine.runtime.simulation import plots as drawing

        written += drawing.draw_all(summary, results.timeline_sample(outcome), out)
    summary["files"] = sorted(written)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
