"""A small world for the use-case tests: one account, one actor, a simulated clock."""

from datetime import UTC, datetime

from engine import ActionType, DelayUnit, SequenceEngine, Step, in_memory

TUESDAY = datetime(2020, 12, 15, 19, 58, 53, 526_000, tzinfo=UTC)


def email(
    position: int, delay: int, unit: DelayUnit = DelayUnit.WEEKDAYS, template: int = 100
) -> Step:
    return Step(position, delay, unit, ActionType.AUTOMATED_EMAIL, template + position, False)


def task(
    position: int, delay: int, unit: DelayUnit = DelayUnit.HOURS, content: str = "call"
) -> Step:
    return Step(position, delay, unit, ActionType.TASK, task_content=content)


class World:
    """One account, one actor, and an engine on a simulated clock."""

    def __init__(self, start: datetime = TUESDAY, **calendar: object) -> None:
        self.engine: SequenceEngine = in_memory(start=start)
        self.account = self.engine.create_account("acme").id
        self.actor = self.engine.create_user(self.account, **calendar).id

    def sequence(self, *steps: Step, name: str = "seq") -> int:
        return self.engine.create_sequence(
            self.account, name=name, steps=steps, creator_id=self.actor
        ).id

    def enroll(self, sequence_id: int, resource_id: int = 1) -> int:
        return self.engine.enroll(
            self.account,
            sequence_id=sequence_id,
            resource_type="lead",
            resource_id=resource_id,
            actor_id=self.actor,
        ).enrollment.id

    def get(self, enrollment_id: int):  # type: ignore[no-untyped-def]
        return self.engine.get_enrollment(self.account, enrollment_id)
