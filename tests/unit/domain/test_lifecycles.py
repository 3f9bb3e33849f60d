"""The compiled lookup tables must be exactly the transitions machines."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest
from transitions import MachineError

from engine.domain.enums import ActionStatus, EnrollmentState
from engine.domain.lifecycles import (
    EMAIL_ACTION,
    ENROLLMENT,
    LIFECYCLES,
    TASK_ACTION,
    Lifecycle,
)
from engine.errors import TransitionRefused
from engine.runtime.diagrams import lifecycles_markdown

ROOT = Path(__file__).resolve().parents[3]


@dataclass(slots=True)
class Model:
    state: StrEnum


def all_pairs(lifecycle: Lifecycle[StrEnum]) -> list[tuple[StrEnum, str]]:
    triggers = list(lifecycle.machine.events)
    return [(state, trigger) for state in lifecycle.states for trigger in triggers]


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.name)
def test_lookup_agrees_with_the_machine_on_every_pair(lifecycle: Lifecycle[StrEnum]) -> None:
    for state, trigger in all_pairs(lifecycle):
        model = Model(state)
        try:
            lifecycle.fire_via_machine(model, trigger)
            by_machine: StrEnum | None = model.state
        except MachineError:
            by_machine = None
        if by_machine is None:
            with pytest.raises(TransitionRefused):
                lifecycle.fire(state, trigger)
        else:
            assert lifecycle.fire(state, trigger) is by_machine


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.name)
def test_lookup_holds_exactly_the_table(lifecycle: Lifecycle[StrEnum]) -> None:
    expected = {(s, t.trigger): t.dest for t in lifecycle.table for s in t.sources}
    assert lifecycle.lookup == expected


def test_machines_have_no_auto_transitions_and_no_models() -> None:
    for lifecycle in LIFECYCLES:
        assert not any(name.startswith("to_") for name in lifecycle.machine.events)
        assert lifecycle.machine.models == []


def test_finished_is_terminal() -> None:
    assert ENROLLMENT.targets(EnrollmentState.FINISHED) == ()
    for trigger in ENROLLMENT.machine.events:
        assert not ENROLLMENT.can(EnrollmentState.FINISHED, trigger)


def test_refusal_names_the_state_and_the_allowed_targets() -> None:
    with pytest.raises(TransitionRefused) as refused:
        ENROLLMENT.fire(EnrollmentState.FINISHED, "resume")
    assert "'finished'" in refused.value.message
    assert "terminal" in refused.value.message
    with pytest.raises(TransitionRefused) as refused:
        ENROLLMENT.fire(EnrollmentState.ACTIVE, "resume")
    assert refused.value.allowed == ("blocked", "finished")
    assert refused.value.errors[0].field == "/data/state"


def test_tasks_are_never_blocked() -> None:
    for state in ActionStatus:
        for trigger in TASK_ACTION.machine.events:
            if TASK_ACTION.can(state, trigger):
                assert TASK_ACTION.fire(state, trigger) is not ActionStatus.BLOCKED


def test_email_lifecycle_matches_semantics() -> None:
    A = ActionStatus
    assert EMAIL_ACTION.fire(A.SCHEDULED, "start") is A.IN_PROGRESS
    assert EMAIL_ACTION.fire(A.IN_PROGRESS, "complete") is A.COMPLETED
    assert EMAIL_ACTION.fire(A.IN_PROGRESS, "fail") is A.BLOCKED
    assert EMAIL_ACTION.fire(A.BLOCKED, "resume") is A.SCHEDULED
    assert EMAIL_ACTION.fire(A.BLOCKED, "cancel") is A.CANCELLED
    assert EMAIL_ACTION.fire(A.IN_PROGRESS, "abandon") is A.CANCELLED
    assert not EMAIL_ACTION.can(A.IN_PROGRESS, "cancel")
    assert not EMAIL_ACTION.can(A.COMPLETED, "cancel")


def test_docs_diagrams_are_generated_from_the_tables() -> None:
    assert (ROOT / "docs" / "lifecycles.md").read_text(encoding="utf-8") == lifecycles_markdown()
