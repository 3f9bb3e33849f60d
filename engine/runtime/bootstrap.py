"""The composition root: the one place that chooses and builds adapters."""

from collections.abc import Callable
from datetime import datetime

from engine.adapters.clocks import SimulatedClock, SystemClock
from engine.adapters.outbox import OutboxDelivery
from engine.adapters.storage.memory import MemoryStore
from engine.app.policy import ExecutionPolicy
from engine.app.ports import Clock, EmailDelivery, Store
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
) -> SequenceEngine:
    return SequenceEngine(
        store, clock, delivery or OutboxDelivery(store), policy, on_commit=on_commit
    )
