"""Pictures for the docs and notebooks, drawn with matplotlib (no graphviz, no browser):
a lifecycle as a state diagram generated from its transition table, and the
architecture's layers. `make diagrams` writes them into docs/img/."""

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from engine.domain.lifecycles import LIFECYCLES, Lifecycle

# where each state sits, per lifecycle (x, y); states not listed go on a circle
LAYOUTS: dict[str, dict[str, tuple[float, float]]] = {
    "enrollment": {"active": (0, 0), "blocked": (3, 1.6), "finished": (6, 0)},
    "automated_email action": {
        "scheduled": (0, 0),
        "in_progress": (3, 0),
        "completed": (6, 0),
        "blocked": (1.5, 2.2),
        "cancelled": (4.5, 2.2),
    },
    "task action": {
        "scheduled": (0, 0),
        "in_progress": (3, 0),
        "completed": (6, 0),
        "cancelled": (3, -2.2),
    },
}


def _positions(lifecycle: Lifecycle[Any], used: set[str]) -> dict[str, tuple[float, float]]:
    names = [s.value for s in lifecycle.states if s.value in used]
    fixed = LAYOUTS.get(lifecycle.name, {})
    if all(n in fixed for n in names):
        return {n: fixed[n] for n in names}
    step = 2 * math.pi / len(names)
    return {n: (3 * math.cos(i * step), 3 * math.sin(i * step)) for i, n in enumerate(names)}


def draw_lifecycle(lifecycle: Lifecycle[Any], ax: Any = None) -> Any:
    """The lifecycle's states and transitions on `ax` (a new figure if None)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

    if ax is None:
        ax = Figure(figsize=(9, 5)).subplots()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for transition in lifecycle.table:
        for source in transition.sources:
            edges[(source.value, transition.dest.value)].append(transition.trigger)
    where = _positions(lifecycle, {state for edge in edges for state in edge})
    for name, (x, y) in where.items():
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=10,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.5", "fc": "#e9f5f3", "ec": "#2a9d8f"},
        )
    for (source, dest), triggers in edges.items():
        (x1, y1), (x2, y2) = where[source], where[dest]
        back = (dest, source) in edges
        bend = 0.3 if back else 0.15
        ax.add_patch(
            FancyArrowPatch(
                (x1, y1),
                (x2, y2),
                connectionstyle=f"arc3,rad={bend}",
                arrowstyle="-|>",
                mutation_scale=14,
                color="#1d3557",
                shrinkA=34,
                shrinkB=34,
                zorder=2,
            )
        )
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        # the label sits on the bulge of the arc: perpendicular to the chord
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1
        ox, oy = dy / length * bend * length / 2, -dx / length * bend * length / 2
        ax.text(
            mx + ox,
            my + oy,
            "\n".join(triggers),
            ha="center",
            va="center",
            fontsize=7,
            color="#6d597a",
            zorder=4,
            bbox={"fc": "white", "ec": "none", "alpha": 0.8},
        )
    xs = [p[0] for p in where.values()]
    ys = [p[1] for p in where.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{lifecycle.name} lifecycle")
    return ax


LAYERS = [
    ("runtime", "CLI, bootstrap (composition root), server, scheduler, simulator", "#e9c46a"),
    (
        "adapters",
        "HTTP (Falcon)  ·  storage (memory, SQLite)  ·  clocks  ·  outbox, webhook  ·  Sell client",
        "#f4a261",
    ),
    ("wire", "Sell JSON: render and parse", "#a8dadc"),
    (
        "app",
        "use cases  ·  ports: Clock, Store / UnitOfWork, EmailDelivery  ·  SequenceEngine",
        "#2a9d8f",
    ),
    (
        "domain + timeline",
        "entities, lifecycles  ·  calendars, planning, overdue  (pure)",
        "#457b9d",
    ),
]


def draw_architecture(ax: Any = None) -> Any:
    """The layers, outermost on top; every dependency points down."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if ax is None:
        ax = Figure(figsize=(9, 5)).subplots()
    for i, (name, what, colour) in enumerate(LAYERS):
        y = (len(LAYERS) - 1 - i) * 1.2
        ax.add_patch(Rectangle((0, y), 10, 0.9, fc=colour, ec="#1d3557", alpha=0.85))
        ax.text(0.25, y + 0.45, name, va="center", fontsize=11, fontweight="bold")
        ax.text(2.9, y + 0.45, what, va="center", fontsize=8.5)
        if i < len(LAYERS) - 1:
            ax.annotate(
                "", (9.5, y - 0.3), (9.5, y), arrowprops={"arrowstyle": "-|>", "color": "#1d3557"}
            )
    ax.text(9.6, 2.9, "depends on", rotation=90, va="center", fontsize=8)
    ax.set_xlim(-0.1, 10.3)
    ax.set_ylim(-0.2, len(LAYERS) * 1.2)
    ax.axis("off")
    ax.set_title("seqengine: dependencies point inward")
    return ax


def write_images(folder: Path) -> list[Path]:
    """Every picture as SVG (no timestamp inside, so regenerating changes nothing)."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "seqengine"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    figures = [
        (f"lifecycle-{lc.name.split()[0].replace('automated_', '')}.svg", lc) for lc in LIFECYCLES
    ]
    for name, lifecycle in figures:
        ax = draw_lifecycle(lifecycle)
        ax.figure.savefig(folder / name, metadata={"Date": None})
        written.append(folder / name)
    ax = draw_architecture()
    ax.figure.savefig(folder / "architecture.svg", metadata={"Date": None})
    return [*written, folder / "architecture.svg"]


def image_name(lifecycle: Lifecycle[Any]) -> str:
    return f"lifecycle-{lifecycle.name.split()[0].replace('automated_', '')}.svg"
