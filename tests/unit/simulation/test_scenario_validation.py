"""A bad scenario is refused before anything runs, with one sentence naming where."""

import copy
from pathlib import Path
from typing import Any

import pytest

from engine.domain.enums import FailureReason, LimitPolicy
from engine.runtime.simulation.scenario import read_scenario
from engine.runtime.simulation.schema import ScenarioError

EMAIL = {
    "delay_from_previous_step": 0,
    "delay_from_previous_step_unit": "weekdays",
    "action_type": "automated_email",
    "action_properties": {"email_template_id": 1},
}
TASK = {
    "delay_from_previous_step": 1,
    "delay_from_previous_step_unit": "weekdays",
    "action_type": "task",
    "action_properties": {"task_content": "Call"},
}
GOOD: dict[str, Any] = {
    "name": "ok",
    "start": "2026-03-02T08:00:00Z",
    "sequences": [{"name": "s", "steps": [EMAIL, TASK], "reply_probability": [0.2, 0.5]}],
    "actors": [{"name": "a", "time_zone": "Europe/Warsaw", "holidays": "PL"}],
    "arrivals": {"count": 10},
    "behaviour": {
        "failures": {"recipient_invalid": 0.1},
        "task_completion": {"distribution": "lognormal", "median_hours": 5, "sigma": 1},
    },
}


def changed(path: list[str | int], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(GOOD)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def test_a_good_scenario_reads_into_typed_values() -> None:
    scenario = read_scenario(GOOD)
    assert scenario.limit_policy is LimitPolicy.BLOCK
    assert [s.name for s in scenario.sequences] == ["s"]
    # a reply probability only means something for email steps
    assert scenario.sequences[0].reply_probability == (0.2, 0.0)
    assert scenario.behaviour.failures == {FailureReason.RECIPIENT_INVALID: 0.1}
    assert scenario.arrivals.sequences == {"s": 1} and scenario.arrivals.actors == {"a": 1}
    assert (scenario.end - scenario.start).days == 35  # 5 days of arrivals + 30


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["colour"], "red", "scenario.colour is not a known key"),
        (
            ["actors", 0, "time_zone"],
            "Mars/Base",
            "scenario.actors[0]: unknown time zone 'Mars/Base'",
        ),
        (["actors", 0, "holidays"], "XX", "scenario.actors[0]: unknown holiday country 'XX'"),
        (["actors", 0, "send_window"], "18:00-09:00", "scenario.actors[0]: send window must open"),
        (["actors", 0, "nickname"], "x", "scenario.actors[0].nickname is not a known key"),
        (
            ["behaviour", "failures", "recipient_invalid"],
            1.5,
            "scenario.behaviour.failures.recipient_invalid must be a probability between 0 and 1",
        ),
        (
            ["behaviour", "failures", "bounced"],
            0.1,
            "scenario.behaviour.failures.bounced is not a known key",
        ),
        (
            ["behaviour", "task_deletion_rate"],
            -0.1,
            "scenario.behaviour.task_deletion_rate must be a probability between 0 and 1",
        ),
        (
            ["sequences", 0, "reply_probability"],
            [0.1, 2],
            "scenario.sequences[0].reply_probability[1] must be a probability",
        ),
        (
            ["sequences", 0, "reply_probability"],
            [0.1],
            "scenario.sequences[0].reply_probability lists 1 probabilities for 2 steps",
        ),
        (["sequences", 0, "steps"], [{"action_type": "fax"}], "scenario.sequences[0].steps:"),
        (["start"], "next tuesday", "scenario.start must be an ISO 8601 instant"),
        (
            ["start"],
            "2026-03-02T08:00:00",
            "scenario.start must be an ISO 8601 instant with a time zone",
        ),
        (["arrivals", "count"], -3, "scenario.arrivals.count must be an integer >= 0"),
        (
            ["arrivals", "actors"],
            {"nobody": 1},
            "scenario.arrivals.actors.nobody is not a known key",
        ),
        (
            ["behaviour", "task_completion"],
            {"distribution": "gamma"},
            "scenario.behaviour.task_completion.distribution must be one of",
        ),
        (
            ["behaviour", "task_completion"],
            {"distribution": "fixed"},
            "scenario.behaviour.task_completion.hours is required",
        ),
        (["limit_policy"], "queue", "scenario.limit_policy must be block or defer"),
        (
            ["days"],
            3,
            "scenario.arrivals must fall inside the simulated time "
            "(2026-03-02T08:00:00Z to 2026-03-05T08:00:00Z), but run from 2026-03-02T08:00:00Z "
            "to 2026-03-07T08:00:00Z",
        ),
        (["arrivals", "start"], "2026-03-01T00:00:00Z", "scenario.arrivals must fall inside"),
    ],
)
def test_a_bad_scenario_names_its_location(path: list[str | int], value: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        read_scenario(changed(path, value))
    assert refused.value.message.startswith(message), refused.value.message
    assert "\n" not in refused.value.message


def test_missing_sections_and_shared_names_are_refused() -> None:
    without = copy.deepcopy(GOOD)
    del without["actors"]
    with pytest.raises(ScenarioError, match=r"scenario\.actors is required"):
        read_scenario(without)
    twins = changed(["actors"], [{"name": "a"}, {"name": "a"}])
    with pytest.raises(ScenarioError, match="two actors share a name"):
        read_scenario(twins)
    with pytest.raises(ScenarioError, match="must be a mapping"):
        read_scenario(["not", "a", "mapping"])


def test_a_sequence_file_is_read_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "seq.json").write_text('{"data": {"name": "x", "steps": [' + _json(EMAIL) + "]}}")
    scenario = read_scenario(
        changed(["sequences"], [{"name": "from file", "file": "seq.json"}]), base=tmp_path
    )
    assert len(scenario.sequences[0].steps) == 1
    with pytest.raises(ScenarioError, match=r"sequences\[0\]\.file: cannot read"):
        read_scenario(changed(["sequences"], [{"name": "f", "file": "nope.json"}]), base=tmp_path)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
