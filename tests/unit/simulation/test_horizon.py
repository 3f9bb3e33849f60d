"""The simulator asks the engine to stop at its next event (`horizon`) only when the
engine's work can make one (engine/runtime/simulation/runner.py, `reacts`): a reply, a
task's completion or deletion, a resume. Without those, the run must end the same."""

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from engine.runtime.simulation.runner import Simulation
from engine.runtime.simulation.scenario import Chance, Scenario, load_scenario

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"


def quiet() -> Scenario:
    """two_reps without replies, task steps or resumes; its failures, transient errors,
    blocks, daily limit and resource deletions stay."""
    scenario = load_scenario(EXAMPLES / "two_reps.yaml")
    sequences = tuple(
        replace(spec, steps=emails, reply_probability=(0.0,) * len(emails))
        for spec in scenario.sequences
        for emails in [tuple(
            replace(step, position=position)
            for position, step in enumerate(s for s in spec.steps if s.is_email)
        )]
    )
    behaviour = replace(scenario.behaviour, resume_blocked=None)
    return replace(scenario, sequences=sequences, behaviour=behaviour)


def test_a_scenario_whose_work_makes_no_event_ends_the_same_without_the_horizon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def simulate(reacts: bool | None) -> tuple[Simulation, set[bool]]:
        simulation = Simulation(quiet(), enrollments=300, seed=2)
        if reacts is not None:
            simulation.reacts = reacts
        asked: set[bool] = set()
        advance = simulation.engine.advance

        def watched(**kwargs: Any) -> Any:
            asked.add(kwargs.get("horizon") is not None)
            return advance(**kwargs)

        monkeypatch.setattr(simulation.engine, "advance", watched)
        simulation.run()
        return simulation, asked

    without, asked_without = simulate(None)
    with_horizon, asked_with = simulate(True)
    assert not without.reacts
    assert asked_without == {False} and True in asked_with
    s, t = without.store, with_horizon.store
    assert repr(sorted(s.enrollments.items())) == repr(sorted(t.enrollments.items()))
    assert sorted(s.claims.items()) == sorted(t.claims.items())
    assert sorted(s.sends.items()) == sorted(t.sends.items())
    assert without.tally == with_horizon.tally
    assert without.clock.now() == with_horizon.clock.now()
    assert without.tally.emails_sent and without.tally.blocks  # it sent, and blocked


@pytest.mark.parametrize("reaction", ["reply", "task", "resume"])
def test_each_reaction_of_the_simulator_makes_it_ask_for_the_horizon(reaction: str) -> None:
    scenario = quiet()
    original = load_scenario(EXAMPLES / "two_reps.yaml")
    if reaction == "reply":
        first = replace(scenario.sequences[0], reply_probability=(0.0, 0.1))
        scenario = replace(scenario, sequences=(first, *scenario.sequences[1:]))
    elif reaction == "task":  # the cold sequence with its task step
        scenario = replace(scenario, sequences=(
            scenario.sequences[0],
            replace(original.sequences[1], reply_probability=(0.0,) * 4),
        ))
    else:
        resume = Chance(0.5, original.behaviour.resume_blocked.delay)  # type: ignore[union-attr]
        scenario = replace(scenario, behaviour=replace(scenario.behaviour, resume_blocked=resume))
    assert Simulation(scenario, enrollments=10).reacts
    assert not Simulation(quiet(), enrollments=10).reacts
