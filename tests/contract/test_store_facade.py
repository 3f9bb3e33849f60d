"""End to end through the facade: the same story gives the same state on every backend."""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from backends import BACKENDS, close

from engine.adapters.clocks import SimulatedClock
from engine.app.ports import Page, TaskFilter
from engine.domain.enums import ActionStatus, ActionType, DelayUnit, EnrollmentState
from engine.domain.sequence import Step
from engine.runtime.bootstrap import build

MONDAY = datetime(2020, 6, 22, 12, 59, 57, tzinfo=UTC)  # the seed's example
STEPS = (
    Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 101),
    Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 102, True),
    Step(2, 2, DelayUnit.HOURS, ActionType.TASK, task_content="call"),
)


def story(backend: str, tmp_path: Path) -> dict[str, Any]:
    store = BACKENDS[backend](tmp_path)
    try:
        engine = build(store, SimulatedClock(MONDAY))
        account = engine.create_account("acme").id
        actor = engine.create_user(account, time_zone="Europe/Warsaw").id
        sequence = engine.create_sequence(account, name="s", steps=STEPS, creator_id=actor).id
        enrolled = engine.enroll(account, sequence_id=sequence, resource_type="lead",
                                 resource_id=7, actor_id=actor).enrollment.id
        engine.advance(seconds=23 * 3600)
        # snapshots at once: MemoryStore hands out its live objects
        after_a_day = asdict(engine.get_enrollment(account, enrolled).enrollment)
        first_outbox = [asdict(m) for m in engine.outbox(account)]
        engine.advance(seconds=2 * 86400)
        (task,) = engine.list_tasks(account, TaskFilter(resource_id=7))
        engine.update_task(account, task.id, completed=True)
        done = engine.get_enrollment(account, enrolled)
        return {
            "after_a_day": after_a_day,
            "first_outbox": first_outbox,
            "outbox": [asdict(m) for m in engine.outbox(account, Page())],
            "task": asdict(engine.get_task(account, task.id)),
            "done": asdict(done.enrollment),
            "sequence": asdict(done.sequence),
            "next_due_at": engine.next_due_at(),
        }
    finally:
        close(store)


def test_the_same_story_on_every_backend(tmp_path: Path) -> None:
    for name in BACKENDS:
        (tmp_path / name).mkdir()
    results = {name: story(name, tmp_path / name) for name in BACKENDS}
    memory = results["memory"]

    day = memory["after_a_day"]
    assert [m["idempotency_key"] for m in memory["first_outbox"]] == ["1:0:0"]
    assert memory["first_outbox"][0]["sent_at"] == MONDAY
    assert day["current_step_position"] == 1
    assert day["actions"][0]["status"] is ActionStatus.COMPLETED
    assert day["actions"][0]["executed_at"] == MONDAY
    assert day["actions"][1]["estimated_execute_at"] == MONDAY + timedelta(days=1)  # Tuesday
    assert day["due_at"] == MONDAY + timedelta(days=1)

    assert [m["idempotency_key"] for m in memory["outbox"]] == ["1:0:0", "1:1:0"]
    assert memory["task"]["completed"] is True
    assert memory["done"]["state"] is EnrollmentState.FINISHED
    assert memory["next_due_at"] is None

    for name, result in results.items():
        assert result == memory, name
