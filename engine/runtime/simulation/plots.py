"""The pictures of a run: the funnel, daily workload per actor, and a timeline of a
sample of enrollments. Built as matplotlib `Figure`s without pyplot, so nothing
global (no backend) is chosen: a notebook shows them inline, `draw_all` saves them."""

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
from matplotlib.figure import Figure

REASON_COLOURS = {
    "all_steps_completed": "#2a9d8f",
    "replied_to_email": "#e9c46a",
    "task_deleted": "#f4a261",
    "resource_deleted": "#8d99ae",
    "subscription_cancelled": "#6d597a",
    "manual": "#264653",
    "ongoing": "#bbbbbb",
}


def _when(text: str) -> float:
    """An instant as matplotlib's date number."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return float(mdates.date2num(instant))  # type: ignore[no-untyped-call]


def funnel(summary: dict[str, Any]) -> Figure:
    """One bar group per sequence: reached and completed at each step."""
    by_sequence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in summary["funnel"]:
        by_sequence[row["sequence"]].append(row)
    fig = Figure(figsize=(5.5 * len(by_sequence), 4))
    axes = fig.subplots(1, len(by_sequence), squeeze=False)
    for ax, (name, rows) in zip(axes[0], by_sequence.items(), strict=True):
        positions = [r["position"] for r in rows]
        ax.bar(
            [p - 0.2 for p in positions],
            [r["reached"] for r in rows],
            0.4,
            label="reached",
            color="#457b9d",
        )
        ax.bar(
            [p + 0.2 for p in positions],
            [r["completed"] for r in rows],
            0.4,
            label="completed",
            color="#2a9d8f",
        )
        ax.set_xticks(
            positions,
            [
                f"{p}\n{r['action'].replace('automated_', '')}"
                for p, r in zip(positions, rows, strict=True)
            ],
        )
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_ylabel("enrollments")
        ax.legend()
    fig.suptitle("Funnel: enrollments reaching and completing each step")
    fig.tight_layout()
    return fig


def workload(summary: dict[str, Any]) -> Figure:
    """Emails sent and tasks created per actor per local day."""
    actors = sorted({r["actor"] for r in summary["workload"]})
    fig = Figure(figsize=(10, 2.6 * max(len(actors), 1)))
    axes = fig.subplots(len(actors) or 1, 1, squeeze=False, sharex=True)
    for ax, actor in zip(axes[:, 0], actors, strict=False):
        rows = [r for r in summary["workload"] if r["actor"] == actor]
        days = [datetime.fromisoformat(r["day"]) for r in rows]
        ax.bar(days, [r["emails_sent"] for r in rows], 0.8, label="emails sent", color="#457b9d")
        ax.plot(
            days, [r["tasks_created"] for r in rows], "o-", label="tasks created", color="#e76f51"
        )
        ax.set_title(actor)
        ax.set_ylabel("per day")
        ax.legend(loc="upper right")
    axes[-1, 0].xaxis.set_major_formatter(
        mdates.DateFormatter(  # type: ignore[no-untyped-call]
            "%a %d %b"
        )
    )
    fig.autofmt_xdate()
    fig.suptitle("Daily workload per actor (actor's local days)")
    fig.tight_layout()
    return fig


def timeline(sample: list[dict[str, Any]], end: float) -> Figure:
    """One line per enrollment from start to finish, a mark per executed step."""
    fig = Figure(figsize=(11, 0.32 * max(len(sample), 4) + 1.5))
    ax = fig.subplots()
    for row, item in enumerate(sample):
        start = _when(item["created_at"])
        stop = _when(item["finished_at"]) if item["finished_at"] else end
        colour = REASON_COLOURS.get(item["finished_reason"], "#000000")
        ax.plot([start, stop], [row, row], color=colour, linewidth=3, solid_capstyle="butt")
        for step in item["steps"]:
            if step["executed_at"]:
                marker = "o" if step["action"] == "automated_email" else "s"
                ax.plot(_when(step["executed_at"]), row, marker, color="#1d3557", markersize=5)
    for reason, colour in REASON_COLOURS.items():
        if any(i["finished_reason"] == reason for i in sample):
            ax.plot([], [], color=colour, linewidth=3, label=reason)
    ax.plot([], [], "o", color="#1d3557", label="email sent")
    ax.plot([], [], "s", color="#1d3557", label="task completed")
    ax.set_yticks(range(len(sample)), [f"#{i['id']}" for i in sample], fontsize=7)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(
        mdates.DateFormatter(  # type: ignore[no-untyped-call]
            "%d %b"
        )
    )
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title("A sample of enrollments: start to finish, coloured by how they finished")
    fig.tight_layout()
    return fig


def draw_all(summary: dict[str, Any], sample: list[dict[str, Any]], out: Path) -> list[str]:
    figures = {
        "funnel.png": funnel(summary),
        "workload.png": workload(summary),
        "timeline.png": timeline(sample, _when(summary["end"])),
    }
    for name, figure in figures.items():
        figure.savefig(out / name, dpi=100)
    return list(figures)
