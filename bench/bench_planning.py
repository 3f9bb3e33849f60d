"""P3: planning one `weekdays` step in a time zone with a holiday calendar (UTC in, UTC out).

Side by side in the same run (performance.md, P3):

* ours: ``plan(t, n, WEEKDAYS, calendar_for("America/New_York", "US"))`` for random
  instants of 2026 and n in 1..20; and ``plan(t, n, HOURS, ...)`` for the hours step;
* ``numpy.busday_offset`` on a scalar, with the conversions from and back to a
  ``datetime`` (no time zone: numpy has none), without and with the US holidays;
* pandas: a Timestamp in America/New_York ``+ BDay(n)``, converted back to UTC; and
  ``+ CustomBusinessDay(n, holidays=US)`` on a UTC Timestamp (no zone work at all);
* workalendar ``UnitedStates().add_working_days`` on the local date (O(n)).

Every contender does the same conversions ours does (UTC datetime in, UTC datetime
out) and gets its helpers prepared once (offsets, busday calendar), so the ratios
compare step costs. A peer that is not installed is skipped with a note.

    python bench/bench_planning.py [--quick]     prints the P3 entry as JSON
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, summary
from engine.timeline import DelayUnit, calendar_for, plan

FIGURE = "P3: planning one weekdays step in a time zone with a holiday calendar (UTC in/out)"
GOAL = "<= 0.25x numpy busday_offset scalar, <= 0.1x pandas, hours step <= 0.3 us"
ZONE_NAME = "America/New_York"
COUNTRY = "US"
SEED = 20261102

Case = tuple[dt.datetime, int]


def make_cases(count: int) -> list[Case]:
    rng = random.Random(SEED)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        (
            start
            + dt.timedelta(seconds=rng.randrange(365 * 86400), microseconds=rng.randrange(10**6)),
            rng.randint(1, 20),
        )
        for _ in range(count)
    ]


def contenders(cases: list[Case]) -> tuple[dict[str, Callable[[], None]], dict[str, str]]:
    """Loops over all cases, one per contender, and notes for skipped peers."""
    calendar = calendar_for(ZONE_NAME, COUNTRY)
    weekdays, hours = DelayUnit.WEEKDAYS, DelayUnit.HOURS

    def ours_weekdays() -> None:
        for t, n in cases:
            plan(t, n, weekdays, calendar)

    def ours_hours() -> None:
        for t, n in cases:
            plan(t, n, hours, calendar)

    def empty_loop() -> None:
        for _t, _n in cases:
            pass

    loops: dict[str, Callable[[], None]] = {
        "ours_weekdays": ours_weekdays,
        "ours_hours": ours_hours,
        "loop_overhead": empty_loop,
    }
    notes: dict[str, str] = {}
    import holidays

    us_days = sorted(holidays.country_holidays(COUNTRY, years=range(2025, 2029)))
    for name, build in (
        ("numpy", _numpy_loops),
        ("pandas", _pandas_loops),
        ("workalendar", _workalendar_loops),
    ):
        try:
            loops.update(build(cases, us_days))
        except ImportError as missing:
            notes[name] = f"skipped: {missing}"
    return loops, notes


def _numpy_loops(cases: list[Case], us_days: list[dt.date]) -> dict[str, Callable[[], None]]:
    import numpy as np

    busdays = np.busdaycalendar(weekmask="1111100", holidays=np.array(us_days, "datetime64[D]"))
    combine, offset, day64 = dt.datetime.combine, np.busday_offset, np.datetime64

    def numpy_scalar() -> None:
        for t, n in cases:
            combine(offset(day64(t.date()), n, roll="forward").item(), t.timetz())

    def numpy_scalar_holidays() -> None:
        for t, n in cases:
            combine(
                offset(day64(t.date()), n, roll="forward", busdaycal=busdays).item(), t.timetz()
            )

    return {"numpy_scalar": numpy_scalar, "numpy_scalar_holidays": numpy_scalar_holidays}


def _pandas_loops(cases: list[Case], us_days: list[dt.date]) -> dict[str, Callable[[], None]]:
    import pandas as pd
    from pandas.tseries.offsets import BDay, CustomBusinessDay

    bday = {n: BDay(n) for n in range(1, 21)}
    custom = {n: CustomBusinessDay(n, holidays=us_days) for n in range(1, 21)}
    timestamp = pd.Timestamp

    def pandas_tz_bday() -> None:
        for t, n in cases:
            (timestamp(t).tz_convert(ZONE_NAME) + bday[n]).tz_convert("UTC").to_pydatetime()

    def pandas_custom_bday() -> None:
        for t, n in cases:
            (timestamp(t) + custom[n]).to_pydatetime()

    return {"pandas_tz_bday": pandas_tz_bday, "pandas_custom_bday": pandas_custom_bday}


def _workalendar_loops(cases: list[Case], _: list[dt.date]) -> dict[str, Callable[[], None]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from workalendar.usa import UnitedStates
    from zoneinfo import ZoneInfo

    workdays, zone = UnitedStates(), ZoneInfo(ZONE_NAME)

    def workalendar_add_working_days() -> None:
        for t, n in cases:
            local = t.astimezone(zone)
            day = workdays.add_working_days(local.date(), n)
            dt.datetime.combine(day, local.time(), zone).astimezone(dt.UTC)

    return {"workalendar_add_working_days": workalendar_add_working_days}


def per_call_us(loop: Callable[[], None], calls: int, repeats: int) -> dict[str, float]:
    loop()  # warm up: tables, holiday years, caches
    return summary([s / calls * 1e6 for s in timeit.Timer(loop).repeat(repeat=repeats, number=1)])


def run(quick: bool) -> dict[str, Any]:
    """The P3 entry for bench/results.json."""
    count, repeats = (500, 3) if quick else (5_000, 9)
    cases = make_cases(count)
    loops, notes = contenders(cases)
    timings = {name: per_call_us(loop, count, repeats) for name, loop in loops.items()}
    ours = {name[len("ours_") :]: timings.pop(name) for name in ("ours_weekdays", "ours_hours")}
    overhead = timings.pop("loop_overhead")
    weekdays = ours["weekdays"]["median"]
    ratios = {
        f"weekdays_vs_{peer}": round(weekdays / figures["median"], 4)
        for peer, figures in timings.items()
    }
    checks = {
        "numpy": [ratios[k] <= 0.25 for k in ratios if "numpy" in k],
        "pandas": [ratios[k] <= 0.1 for k in ratios if "pandas" in k],
        "hours": [ours["hours"]["median"] <= 0.3],
    }
    return {
        "id": "P3",
        "figure": FIGURE,
        "ours_us": ours,
        "peers_us": timings,
        "ratios": ratios,
        "goal": GOAL,
        # A missing peer cannot be judged: the goal then counts as not met.
        "goal_met": all(results and all(results) for results in checks.values()),
        "note": (
            f"{count} random (instant in 2026, n in 1..20) cases in {ZONE_NAME} with {COUNTRY} "
            f"holidays, per-call medians of {repeats} repeats; each figure includes a bare loop "
            f"of {overhead['median']} us per case; numpy and pandas_custom_bday do no time-zone "
            "work. How: the day table lists the business days of its range and each local "
            "day's rank among them, so n business days on is two array reads "
            "(engine/timeline/daytable.py); the UTC offset of each local day is prepared too, "
            "and the table path is inlined in plan(). "
            + " ".join(f"{k}: {v}." for k, v in notes.items())
        ).strip(),
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
    }


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv[1:]), indent=2))
