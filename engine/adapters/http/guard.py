"""How HTTP worker threads (and a scheduler thread) share one engine safely.

The WSGI server runs requests on several threads. What the store needs:

- `MemoryStore` hands out its live objects, so every request, reads included,
  and the rendering of what it returned, holds the store's own lock (the one its
  units of work hold, so a scheduler thread's transactions exclude it too).
- Any other store (SQLite, PostgreSQL) gives each thread its own connection and
  copies of the rows: reads run concurrently, writes are serialised in-process
  (SQLite allows one writer anyway; this spares it busy retries), and a clock
  advance holds the write lock for the whole run so it stays deterministic.
  One exception: an enrollment create without an Idempotency-Key on the system
  clock takes no lock here (resources/enrollments.py, EnrollmentList._create_guard):
  its store transaction isolates it, and SQLite batches such creates into one
  commit (engine/adapters/storage/write_batch.py).

The scheduler never takes this guard: its transactions are the store's, and
nothing is held while a send runs (engine/app/execution.py).
"""

import threading
from contextlib import AbstractContextManager, nullcontext

from engine.adapters.storage.memory import MemoryStore

_UNGUARDED: AbstractContextManager[None] = nullcontext()


class EngineGuard:
    def __init__(self, *, exclusive_reads: bool, lock: "threading.RLock | None" = None) -> None:
        self._lock = lock or threading.RLock()
        self.exclusive_reads = exclusive_reads

    @classmethod
    def for_store(cls, store: object) -> "EngineGuard":
        if isinstance(store, MemoryStore):
            return cls(exclusive_reads=True, lock=store.lock)
        return cls(exclusive_reads=False)

    def read(self) -> AbstractContextManager[object]:
        return self._lock if self.exclusive_reads else _UNGUARDED

    def write(self) -> AbstractContextManager[object]:
        return self._lock
