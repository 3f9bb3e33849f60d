"""The Enrollment and StepAction lifecycles (semantics.md sections 2-3).

Each lifecycle is one typed transition table. A `transitions.Machine` is built
from it once per model class, with no models attached (the library FAQ's
memory-footprint pattern): objects carry only their state value. At import the
machine's own `events` are compiled into a `{(source, trigger): dest}` lookup,
so firing a transition costs a dict lookup instead of the library's ~77 Python
calls; `Lifecycle.fire_via_machine` runs the library path, and the tests assert
that both agree on every (state, trigger) pair.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, NoReturn, TypeVar

from transitions import Machine

from engine.domain.enums import ActionStatus, EnrollmentState
from engine.errors import TransitionRefused

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Transition(Generic[S]):
    trigger: str
    sources: tuple[S, ...]
    dest: S


class Lifecycle(Generic[S]):
    """A state machine shared by every object of one kind."""

    def __init__(self, name: str, states: type[S], table: Iterable[Transition[S]]) -> None:
        self.name = name
        self.states = states
        self.table: tuple[Transition[S], ...] = tuple(table)
        self.machine = Machine(
            model=None,
            states=states,
            transitions=[
                {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
                for t in self.table
            ],
            initial=None,
            auto_transitions=False,
            name=name,
        )
        self.lookup: dict[tuple[S, str], S] = self._compile()
        self._targets: dict[S, tuple[S, ...]] = {
            state: tuple(
                dict.fromkeys(dest for (src, _), dest in self.lookup.items() if src is state)
            )
            for state in states
        }

    def _compile(self) -> dict[tuple[S, str], S]:
        """Read the (source, trigger) -> dest table back out of the machine itself."""
        lookup: dict[tuple[S, str], S] = {}
        for trigger, event in self.machine.events.items():
            for source_name, transitions in event.transitions.items():
                for transition in transitions:
                    if transition.dest is not None:  # internal transitions: none here
                        lookup[(self.states[source_name], trigger)] = self.states[transition.dest]
        return lookup

    def fire(self, state: S, trigger: str) -> S:
        """The state `trigger` leads to from `state`, or TransitionRefused."""
        dest = self.lookup.get((state, trigger))
        if dest is None:
            self.refuse(state, trigger)
        return dest

    def refuse(self, state: S, trigger: str) -> NoReturn:
        """TransitionRefused for a (state, trigger) pair the table does not have: for
        callers that read `lookup` themselves (a hot path saving a call)."""
        raise TransitionRefused(self.name, str(state), trigger, self.targets(state))

    def can(self, state: S, trigger: str) -> bool:
        return (state, trigger) in self.lookup

    def targets(self, state: S) -> tuple[str, ...]:
        """The states reachable from `state` in one transition, in table order."""
        return tuple(str(s) for s in self._targets[state])

    def fire_via_machine(self, model: Any, trigger: str) -> None:
        """The library's own path (slow): used by tests to hold the lookup to the machine."""
        self.machine.events[trigger].trigger(model)

    def mermaid(self) -> str:
        lines = ["stateDiagram-v2"]
        for t in self.table:
            for source in t.sources:
                lines.append(f"    {source.value} --> {t.dest.value}: {t.trigger}")
        return "\n".join(lines) + "\n"


E = EnrollmentState
A = ActionStatus

ENROLLMENT_TRANSITIONS: tuple[Transition[EnrollmentState], ...] = (
    Transition("block", (E.ACTIVE,), E.BLOCKED),
    Transition("resume", (E.BLOCKED,), E.ACTIVE),
    Transition("finish_manually", (E.ACTIVE, E.BLOCKED), E.FINISHED),
    Transition("complete", (E.ACTIVE,), E.FINISHED),
    Transition("reply", (E.ACTIVE, E.BLOCKED), E.FINISHED),
    Transition("delete_resource", (E.ACTIVE, E.BLOCKED), E.FINISHED),
    Transition("cancel_subscription", (E.ACTIVE, E.BLOCKED), E.FINISHED),
    Transition("delete_task", (E.ACTIVE, E.BLOCKED), E.FINISHED),
)

EMAIL_ACTION_TRANSITIONS: tuple[Transition[ActionStatus], ...] = (
    Transition("start", (A.SCHEDULED,), A.IN_PROGRESS),
    Transition("complete", (A.IN_PROGRESS,), A.COMPLETED),
    Transition("fail", (A.IN_PROGRESS,), A.BLOCKED),
    Transition("resume", (A.BLOCKED,), A.SCHEDULED),
    Transition("cancel", (A.SCHEDULED, A.BLOCKED), A.CANCELLED),
    Transition("abandon", (A.IN_PROGRESS,), A.CANCELLED),
)

TASK_ACTION_TRANSITIONS: tuple[Transition[ActionStatus], ...] = (
    Transition("start", (A.SCHEDULED,), A.IN_PROGRESS),
    Transition("complete", (A.IN_PROGRESS,), A.COMPLETED),
    Transition("cancel", (A.SCHEDULED, A.IN_PROGRESS), A.CANCELLED),
)

ENROLLMENT = Lifecycle("enrollment", EnrollmentState, ENROLLMENT_TRANSITIONS)
EMAIL_ACTION = Lifecycle("automated_email action", ActionStatus, EMAIL_ACTION_TRANSITIONS)
TASK_ACTION = Lifecycle("task action", ActionStatus, TASK_ACTION_TRANSITIONS)

LIFECYCLES: tuple[Lifecycle[EnrollmentState] | Lifecycle[ActionStatus], ...] = (
    ENROLLMENT,
    EMAIL_ACTION,
    TASK_ACTION,
)
