"""The in-memory store, unchanged, with two things reported as they are saved: a task
that is new, and an enrollment that has just become blocked (through the store's
`saved_blocked` hook). That is how the simulator learns what the engine did without
reaching into how it does it."""

from collections.abc import Callable

from engine.adapters.storage.memory import MemoryStore, MemoryUnitOfWork
from engine.domain.enrollment import Enrollment
from engine.domain.task import Task


class ObservedStore(MemoryStore):
    def __init__(
        self,
        on_new_task: Callable[[Task], None],
        on_blocked: Callable[[Enrollment], None],
    ) -> None:
        super().__init__()
        self.on_new_task, self.on_blocked = on_new_task, on_blocked
        # (id, position, generation) of each block reported: an enrollment blocks once per
        # position and generation (a resume starts a new generation), and may be saved
        # blocked again before it resumes
        self.blocked: set[tuple[int, int, int]] = set()
        self._uow = ObservedUnitOfWork(self)


class ObservedUnitOfWork(MemoryUnitOfWork):
    s: ObservedStore

    def save_task(self, task: Task) -> None:
        new = task.id not in self.s.tasks
        super().save_task(task)
        if new:
            self.s.on_new_task(task)

    def saved_blocked(self, enrollment: Enrollment) -> None:
        position = enrollment.current_step_position
        block = (enrollment.id, position, enrollment.actions[position].generation)
        if block not in self.s.blocked:
            self.s.blocked.add(block)
            self.s.on_blocked(enrollment)
