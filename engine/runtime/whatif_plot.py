"""`seqengine timeline --plot`: the planned steps on a calendar strip.

One column per local day of the actor's calendar, the local hour of day upwards.
Days off by the weekmask are shaded grey, public holidays orange (with their names),
and the send window is a green band on business days; each step is a mark at its
planned local day and time. Needs matplotlib (the `sim` extra).
"""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.timeline import BusinessCalendar


def _hour(t: datetime) -> float:
    return t.hour + t.minute / 60 + t.second / 3600


def holiday_names(calendar: BusinessCalendar, first: date, last: date) -> dict[date, str]:
    if not calendar.holidays:
        return {}
    import holidays

    country, _, subdivision = calendar.holidays.partition("-")
    years = range(first.year, last.year + 1)
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    return {day: str(name) for day, name in found.items() if first <= day <= last}


def draw_timeline(
    wire: dict[str, Any], start: datetime, calendar: BusinessCalendar, path: str | Path
) -> None:
    timeline_figure(wire, start, calendar).savefig(path, dpi=100)


def timeline_figure(wire: dict[str, Any], start: datetime, calendar: BusinessCalendar) -> Any:
    """The plan as a matplotlib Figure (no pyplot: a notebook shows it inline)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    zone = calendar.zone
    steps = [item["data"] for item in wire["items"]]
    planned = [
        (
            s,
            datetime.fromisoformat(
                s["action"]["data"]["estimated_execute_at"].replace("Z", "+00:00")
            ),
        )
        for s in steps
        if s["action"]["data"]["estimated_execute_at"]
    ]
    local_start = start.astimezone(zone)
    first = local_start.date() - timedelta(days=1)
    last = max([t.astimezone(zone).date() for _, t in planned] + [local_start.date()])
    last += timedelta(days=2)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    names = holiday_names(calendar, first, last)
    window = calendar.send_window

    fig = Figure(figsize=(max(6.0, 0.55 * len(days) + 2), 4.2))
    ax = fig.subplots()
    for i, day in enumerate(days):
        if day in names:
            ax.axvspan(i - 0.5, i + 0.5, color="#f4a261", alpha=0.35, lw=0)
            ax.text(i, 23.5, names[day], rotation=90, va="top", ha="center", fontsize=7)
        elif calendar.weekmask[day.weekday()] != "1":
            ax.axvspan(i - 0.5, i + 0.5, color="#999999", alpha=0.25, lw=0)
        elif window is not None and calendar.is_business_day(day):
            opens = window.opens.hour + window.opens.minute / 60
            closes = window.closes.hour + window.closes.minute / 60
            ax.bar(i, closes - opens, bottom=opens, width=0.9, color="#2a9d8f", alpha=0.25)
    ax.plot(
        days.index(local_start.date()),
        _hour(local_start),
        "k*",
        markersize=12,
        label="enrollment starts",
    )
    for step, at in planned:
        local = at.astimezone(zone)
        marker = "o" if step["action_type"] == "automated_email" else "s"
        x = days.index(local.date())
        ax.plot(x, _hour(local), marker, color="#1d3557", markersize=9)
        ax.annotate(
            f"step {step['position']}",
            (x, _hour(local)),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=8,
        )
    ax.plot([], [], "o", color="#1d3557", label="email step")
    ax.plot([], [], "s", color="#1d3557", label="task step")
    for colour, alpha, label in (
        ("#2a9d8f", 0.25, "send window"),
        ("#999999", 0.25, "day off (weekmask)"),
        ("#f4a261", 0.35, "public holiday"),
    ):
        ax.add_patch(Rectangle((0, 0), 0, 0, color=colour, alpha=alpha, label=label))
    ax.set_xticks(range(len(days)), [d.strftime("%a\n%d %b") for d in days], fontsize=7)
    ax.set_xlim(-0.5, len(days) - 0.5)
    ax.set_ylim(0, 24)
    ax.set_yticks(range(0, 25, 3))
    ax.set_ylabel(f"local time ({calendar.time_zone})")
    ax.set_title("Planned steps on the actor's calendar")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=7)
    fig.tight_layout()
    return fig


def plot_file(wire: dict[str, Any], options: Any, path: str) -> None:
    """Draw a `seqengine timeline` plan; options carry start and the calendar settings."""
    from engine.timeline import calendar_for
    from engine.wire.parse import parse_instant

    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        raise ValueError(
            "--plot needs matplotlib: install the sim extra (pip install 'seqengine[sim]')"
        ) from None
    calendar = calendar_for(
        options.time_zone, options.holidays, options.weekmask, options.send_window
    )
    draw_timeline(wire, parse_instant(options.start), calendar, path)
