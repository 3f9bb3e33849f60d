"""The storage backends every contract test runs on. A new backend joins by adding
one entry (PostgreSQL: a fresh database per test)."""

from collections.abc import Callable
from pathlib import Path

from engine.adapters.storage.memory import MemoryStore
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import Store

BACKENDS: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp: MemoryStore(),
    "sqlite": lambda tmp: SqliteStore(str(tmp / "contract.db")),
}


def close(store: object) -> None:
    closer = getattr(store, "close", None)
    if closer is not None:
        closer()
