"""Invariant 7: the same commands against the same clock give the same result."""

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import hypothesis.strategies as st
from hypothesis import given, settings

from engine import (
    ActionType,
    DelayUnit,
    EmailReplied,
    EngineError,
    FailureReason,
    FailureRule,
    Page,
    ResourceType,
    Step,
    TaskCompleted,
    in_memory,
)

STEPS = (
    Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 1, False),
    Step(1, 3, DelayUnit.HOURS, ActionType.TASK, task_content="call"),
    Step(2, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 2, True),
)

command = st.one_of(
    st.tuples(st.just("enroll"), st.integers(1, 5)),
    st.tuples(st.just("advance"), st.integers(0, 4 * 86400)),
    st.tuples(st.just("finish"), st.integers(1, 8)),
    st.tuples(st.just("resume"), st.integers(1, 8)),
    st.tuples(st.just("reply"), st.integers(1, 8)),
    st.tuples(st.just("fail"), st.integers(1, 5)),
    st.tuples(st.just("complete_task"), st.integers(1, 8)),
)


def replay(commands: list[tuple[str, int]]) -> Any:
    engine = in_memory(start=datetime(2026, 10, 23, 8, 15, 7, 125_000, tzinfo=UTC))
    account = engine.create_account("a").id
    actor = engine.create_user(account, time_zone="Europe/Warsaw", holidays="PL").id
    sequence = engine.create_sequence(account, name="s", steps=STEPS, creator_id=actor).id
    outcomes: list[str] = []
    for name, arg in commands:
        try:
            if name == "enroll":
                engine.enroll(
                    account,
                    sequence_id=sequence,
                    resource_type="lead",
                    resource_id=arg,
                    actor_id=actor,
                )
            elif name == "advance":
                engine.advance(seconds=arg)
            elif name in ("finish", "resume"):
                state = "finished" if name == "finish" else "active"
                engine.update_enrollment_state(account, arg, state, actor_id=actor)
            elif name == "reply":
                engine.handle(account, EmailReplied(arg))
            elif name == "fail":
                engine.set_failure_rule(
                    FailureRule(account, ResourceType.LEAD, arg, FailureReason.AUTH)
                )
            else:
                engine.handle(account, TaskCompleted(arg))
            outcomes.append("ok")
        except EngineError as error:
            outcomes.append(type(error).__name__)
    everything = Page(size=1000)
    return (
        outcomes,
        [asdict(v.enrollment) for v in engine.list_enrollments(account, page=everything)],
        [asdict(t) for t in engine.list_tasks(account, page=everything)],
        engine.outbox(account, everything),
    )


@settings(max_examples=3 * settings.default.max_examples // 5)  # 60 on the `ci` profile
@given(st.lists(command, max_size=25))
def test_replaying_the_same_commands_gives_the_same_result(commands: list[tuple[str, int]]) -> None:
    assert replay(commands) == replay(commands)
