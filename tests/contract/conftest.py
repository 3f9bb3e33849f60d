"""One contract suite for every storage backend.

`store` runs each test once per backend in BACKENDS. A new backend joins by
adding one entry (PostgreSQL: a fresh database per test, skipped when no
server is configured); tests that need a SQLite file use `sqlite_store`.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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


@pytest.fixture(params=list(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = BACKENDS[request.param](tmp_path)
    yield backend
    close(backend)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    backend = SqliteStore(str(tmp_path / "contract.db"))
    yield backend
    backend.close()
