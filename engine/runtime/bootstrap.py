"""The composition root: the one place that chooses and builds adapters."""

from collections.abc import Callable
from datetime import datetime

from engine.adapters.clocks import SimulatedClock, SystemClock
from engine.adapters.outbox import OutboxDelivery
from engine.adapters.storage.memory import MemoryStore
from engine.app.observer import NO_OBSERVER, ExecutionObserver
from engine.app.policy import ExecutionPolicy
from engine.app.ports import Clock, EmailDelivery, Store, TaskDelivery
from engine.app.service import SequenceEngine


def in_memory(
    start: datetime | None = None,
    policy: ExecutionPolicy | None = None,
) -> SequenceEngine:
    """An engine on the in-memory store with the outbox delivery: on a simulated clock
    starting at `start` if given, else on the system clock."""
    store = MemoryStore()
    clock: Clock = SimulatedClock(start) if start is not None else SystemClock()
    return SequenceEngine(store, clock, OutboxDelivery(store), policy)


def build(
    store: Store,
    clock: Clock,
    delivery: EmailDelivery | None = None,
    policy: ExecutionPolicy | None = None,
    *,
    on_commit: Callable[[], None] | None = None,
    tasks: TaskDelivery | None = None,
    observer: ExecutionObserver = NO_OBSERVER,
) -> SequenceEngine:
    """An engine on the given store and clock. `delivery` sends emails (default: the
    outbox in the store); `tasks` creates task steps' tasks in a host that keeps its
    own (default None: the engine keeps them, `/v2/tasks`); `observer` hears how due
    work runs (engine.adapters.metrics.PrometheusObserver, for one)."""
    return SequenceEngine(
        store, clock, delivery or OutboxDelivery(store), policy, on_commit=on_commit,
        tasks=tasks, observer=observer,
    )
