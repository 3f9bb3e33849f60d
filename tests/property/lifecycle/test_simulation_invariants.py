"""Random scenarios through the simulator: every enrollment the real engine leaves keeps
the invariants of the semantics (section 8), the simulator's counts agree with what
the engine recorded, and the same seed replays the same run."""

import itertools
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from invariants import check_enrollment

from engine.domain.enums import ActionStatus
from engine.runtime.simulation import results
from engine.runtime.simulation.runner import Simulation
from engine.runtime.simulation.scenario import read_scenario
from engine.timeline import calendar_for

UNITS = st.sampled_from(["hours", "weekdays"])
STEP = st.builds(
    lambda delay, unit, task: {
        "delay_from_previous_step": delay,
        "delay_from_previous_step_unit": unit,
        "action_type": "task" if task else "automated_email",
        "action_properties": {"task_content": "Call"} if task else {"email_template_id": 1},
    },
    st.integers(0, 30),
    UNITS,
    st.booleans(),
)
RATE = st.floats(0, 0.3)
DELAY = st.fixed_dictionaries(
    {"distribution": st.just("exponential"), "mean_hours": st.floats(0.1, 72)}
)
ACTOR = st.fixed_dictionaries(
    {
        "name": st.just("rep"),
        "time_zone": st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "Europe/Warsaw"]),
        "holidays": st.sampled_from([None, "US", "PL"]),
        "send_window": st.sampled_from([None, "09:00-17:00", "08:30-12:15"]),
        "daily_email_limit": st.integers(1, 40),
    }
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    period = draw(st.integers(0, 5))
    return {
        "name": "random",
        "start": "2026-03-27T10:00:00Z",  # across the European DST change
        "days": draw(st.integers(period + 1, 30)),
        "seed": draw(st.integers(0, 2**16)),
        "limit_policy": draw(st.sampled_from(["block", "defer"])),
        "sequences": [
            {
                "name": "s",
                "steps": draw(st.lists(STEP, min_size=1, max_size=5)),
                "reply_probability": draw(RATE),
            }
        ],
        "actors": [draw(ACTOR)],
        "arrivals": {"count": draw(st.integers(1, 30)), "period_days": period},
        "behaviour": {
            "reply_delay": draw(DELAY),
            "task_completion": draw(DELAY),
            "task_deletion_rate": draw(RATE),
            "failures": {"recipient_invalid": draw(RATE), "auth": draw(RATE)},
            "transient_error_rate": draw(RATE),
            "resume_blocked": {"probability": draw(st.floats(0, 1)), "delay": draw(DELAY)},
            "resource_deletion": {"probability": draw(RATE), "delay": draw(DELAY)},
            **(
                {"subscription_cancelled_at": "2026-04-03T12:00:00Z"} if draw(st.booleans()) else {}
            ),
        },
    }


@settings(
    max_examples=int(os.environ.get("LIFECYCLE_EXAMPLES", "150")) // 3 or 1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenarios())
def test_random_scenarios_keep_the_invariants_and_the_counts(document: dict[str, Any]) -> None:
    scenario = read_scenario(document)
    outcome = Simulation(scenario).run()
    summary = results.summary(outcome)
    actor = scenario.actors[0]
    calendar = calendar_for(actor.time_zone, actor.holidays, actor.weekmask, actor.send_window)
    for view in outcome.views:
        check_enrollment(view.enrollment, calendar)
    assert sum(summary["finished_reasons"].values()) == len(outcome.views)
    assert len(outcome.views) + summary["not_enrolled_after_cancellation"] == outcome.enrollments
    actions = [
        (step, action)
        for view in outcome.views
        for step, action in zip(view.enrollment.steps, view.enrollment.actions, strict=True)
    ]
    # every confirmed send completed its step, and every completed email was a confirmed send
    completed_emails = sum(s.is_email and a.status is ActionStatus.COMPLETED for s, a in actions)
    assert summary["emails"]["sent"] == completed_emails
    assert summary["tasks"]["created"] == sum(a.task_id is not None for _, a in actions)
    rows = summary["funnel"]
    for row, after in itertools.pairwise(rows):
        assert row["reached"] >= row["completed"] >= after["reached"]
    assert Simulation(scenario).run().views is not outcome.views
    assert results.summary(Simulation(scenario).run()) == summary
