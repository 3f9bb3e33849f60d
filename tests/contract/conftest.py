"""One contract suite for every storage backend.

`store` runs each test once per backend in backends.BACKENDS; tests that need a
SQLite file use `sqlite_store`.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import BACKENDS, close

from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import Store


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
