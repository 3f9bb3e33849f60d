"""How HTTP worker threads (and a scheduler thread) share one engine safely.

The WSGI server runs requests on several threads. What the store needs:

- `MemoryStore` hands out its live objects and one shared unit of work, so every
  call, reads included, and the rendering of what it returned, holds one lock.
- Any other store (SQLite, PostgreSQL) gives each thread its own connection and
  copies of the rows: reads run concurrently, writes are serialised in-process
  (SQLite allows one writer anyway; this spares it busy retries), and a clock
  advance holds the write lock for the whole run so it stays deterministic.

A scheduler thread in the same process must take `guard.write()` around each
`engine.run_due()`: create the guard with `EngineGuard.for_store(store)` and pass
the same object to `create_app(..., guard=guard)`.
"""

import threading
from contextlib import AbstractContextManager, nullcontext

from engine.adapters.storage.memory import MemoryStore

_UNGUARDED: AbstractContextManager[None] = nullcontext()


class EngineGuard:
    def __init__(self, *, exclusive_reads: bool) -> None:
        self._lock = threading.RLock()
        self.exclusive_reads = exclusive_reads

    @classmethod
    def for_store(cls, store: object) -> "EngineGuard":
        return cls(exclusive_reads=isinstance(store, MemoryStore))

    def read(self) -> AbstractContextManager[object]:
        return self._lock if self.exclusive_reads else _UNGUARDED

    def write(self) -> AbstractContextManager[object]:
        return self._lock
