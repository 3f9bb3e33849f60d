"""The in-memory store, unchanged, with two things reported as they are saved: a task
that is new, and an enrollment that has just become blocked. That is how the simulator
learns what the engine did without reaching into how it does it."""

from collections.abc import Callable

from engine.adapters.storage.memory import MemoryStore, MemoryUnitOfWork
from engine.domain.enrollment import Enrollment
from engine.domain.enums import EnrollmentState
from engine.domain.task import Task

_BLOCKED = EnrollmentState.BLOCKED


class ObservedStore(MemoryStore):
    def __init__(
        self,
        on_new_task: Callable[[Task], None],
        on_blocked: Callable[[Enrollment], None],
    ) -> None:
        super().__init__()
        self.on_new_task, self.on_blocked = on_new_task, on_blocked
        self.blocked: set[int] = set()
        self._uow = ObservedUnitOfWork(self)


class ObservedUnitOfWork(MemoryUnitOfWork):
    s: ObservedStore

    def save_task(self, task: Task) -> None:
        new = task.id not in self.s.tasks
        super().save_task(task)
        if new:
            self.s.on_new_task(task)

    def save_enrollment(self, enrollment: Enrollment) -> None:
        MemoryUnitOfWork.save_enrollment(self, enrollment)  # super(), without its cost
        blocked = self.s.blocked
        if enrollment.state is _BLOCKED:
            if enrollment.id not in blocked:
                blocked.add(enrollment.id)
                self.s.on_blocked(enrollment)
        elif blocked:
            blocked.discard(enrollment.id)
