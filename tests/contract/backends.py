"""The storage backends every contract test runs on. A new backend joins by adding
one entry (PostgreSQL: a fresh database per test, cloned from a migrated template
in the session's throwaway cluster, dropped when the store closes)."""

from collections.abc import Callable
from pathlib import Path

from pg_cluster import ThrowawayPostgresStore

from engine.adapters.storage.memory import MemoryStore
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import Store

BACKENDS: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp: MemoryStore(),
    "sqlite": lambda tmp: SqliteStore(str(tmp / "contract.db")),
    "postgres": lambda tmp: ThrowawayPostgresStore(),
}


def close(store: object) -> None:
    closer = getattr(store, "close", None)
    if closer is not None:
        closer()
