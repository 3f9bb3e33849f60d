"""The simulator drives the real engine: what the scenario says happens shows up in the
enrollments the engine leaves behind, and the same seed gives the same run."""

import copy
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.runtime.simulation import results
from engine.runtime.simulation.outputs import write_all
from engine.runtime.simulation.runner import Outcome, Simulation
from engine.runtime.simulation.scenario import load_scenario, read_scenario

NEW_YORK = ZoneInfo("America/New_York")
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"


def email(delay: int, template: int) -> dict[str, Any]:
    return {
        "delay_from_previous_step": delay,
        "delay_from_previous_step_unit": "weekdays",
        "action_type": "automated_email",
        "action_properties": {"email_template_id": template},
    }


TASK = {
    "delay_from_previous_step": 1,
    "delay_from_previous_step_unit": "weekdays",
    "action_type": "task",
    "action_properties": {"task_content": "Call"},
}
BASE: dict[str, Any] = {
    "name": "small",
    "start": "2026-03-02T08:00:00Z",
    "days": 30,
    "sequences": [{"name": "s", "steps": [email(0, 1), email(1, 2), TASK]}],
    "actors": [{"name": "a", "time_zone": "America/New_York", "send_window": "09:00-17:00"}],
    "arrivals": {"count": 60, "period_days": 3},
    "report": {"overdue_snapshots": True},
}


def run(**changes: Any) -> Outcome:
    document = copy.deepcopy(BASE)
    for key, value in changes.items():
        document[key] = value
    return Simulation(read_scenario(document)).run()


def reasons(outcome: Outcome) -> dict[str, int]:
    return results.summary(outcome)["finished_reasons"]


def test_everything_completes_when_nobody_replies_and_nothing_fails() -> None:
    outcome = run()
    assert reasons(outcome) == {"all_steps_completed": 60}
    summary = results.summary(outcome)
    assert [row["completed"] for row in summary["funnel"]] == [60, 60, 60]
    assert summary["emails"]["sent"] == 120 and summary["tasks"]["completed"] == 60
    # every email went out inside the New York send window, on a weekday
    for view in outcome.views:
        for step, action in zip(view.enrollment.steps, view.enrollment.actions, strict=True):
            assert action.executed_at is not None
            local = action.executed_at.astimezone(NEW_YORK)
            if step.is_email:
                assert local.weekday() < 5 and 9 <= local.hour < 17


def test_a_certain_reply_to_the_first_email_finishes_every_enrollment_there() -> None:
    sequences = [
        {"name": "s", "steps": [email(0, 1), email(1, 2), TASK], "reply_probability": [1, 0, 0]}
    ]
    outcome = run(
        sequences=sequences, behaviour={"reply_delay": {"distribution": "fixed", "hours": 1}}
    )
    assert reasons(outcome) == {"replied_to_email": 60}
    funnel = results.summary(outcome)["funnel"]
    assert funnel[0]["dropped_replied_to_email"] + funnel[1]["dropped_replied_to_email"] == 60


def test_failures_block_and_a_resume_sends_again() -> None:
    outcome = run(behaviour={"failures": {"recipient_invalid": 1.0}})
    summary = results.summary(outcome)
    assert summary["finished_reasons"] == {"ongoing": 60}
    assert summary["emails"]["blocked_by_reason"] == {"recipient_invalid": 60}
    assert all(v.enrollment.state.value == "blocked" for v in outcome.views)
    resumed = run(
        behaviour={
            "failures": {"recipient_invalid": 0.5},
            "resume_blocked": {"probability": 1, "delay": {"distribution": "fixed", "hours": 2}},
        }
    )
    summary = results.summary(resumed)
    assert summary["emails"]["resumed"] == sum(summary["emails"]["blocked_by_reason"].values()) > 0


def test_deleted_tasks_resources_and_a_cancelled_subscription_finish_enrollments() -> None:
    assert reasons(run(behaviour={"task_deletion_rate": 1})) == {"task_deleted": 60}
    gone = run(
        behaviour={
            "resource_deletion": {
                "probability": 1,
                "delay": {"distribution": "fixed", "hours": 0.5},
            }
        }
    )
    assert reasons(gone) == {"resource_deleted": 60}
    cancelled = run(behaviour={"subscription_cancelled_at": "2026-03-03T12:00:00Z"})
    summary = results.summary(cancelled)
    assert set(summary["finished_reasons"]) <= {"subscription_cancelled", "all_steps_completed"}
    assert summary["finished_reasons"]["subscription_cancelled"] > 0
    assert summary["not_enrolled_after_cancellation"] + summary["enrollments"] == 60


def test_a_daily_limit_blocks_what_is_over_it() -> None:
    actors = [{"name": "a", "daily_email_limit": 10}]
    summary = results.summary(run(actors=actors, arrivals={"count": 40, "period_days": 0.5}))
    assert summary["emails"]["blocked_by_reason"]["sendout_limited"] == 30
    assert max(row["emails_sent"] for row in summary["workload"]) == 10


def test_overdue_tasks_are_counted_when_nobody_does_them_in_time() -> None:
    slow = {"task_completion": {"distribution": "fixed", "hours": 100}}
    summary = results.summary(run(behaviour=slow))
    assert sum(row["overdue"] for row in summary["overdue"]["by_day"]) > 0
    fast = results.summary(
        run(behaviour={"task_completion": {"distribution": "fixed", "hours": 1}})
    )
    assert fast["overdue"]["by_day"] == []


@pytest.mark.parametrize("example", ["two_reps.yaml", "year_end.yaml"])
def test_the_same_scenario_and_seed_give_the_same_results(example: str, tmp_path: Path) -> None:
    scenario = load_scenario(EXAMPLES / example)
    first = write_all(Simulation(scenario, enrollments=200).run(), tmp_path / "a", plots=False)
    again = write_all(Simulation(scenario, enrollments=200).run(), tmp_path / "b", plots=False)
    assert first == again
    for table in first["files"]:
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()
    other = write_all(
        Simulation(scenario, enrollments=200, seed=99).run(), tmp_path / "c", plots=False
    )
    assert other["funnel"] != first["funnel"] or other["workload"] != first["workload"]
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["seed"] == scenario.seed
