"""One contract suite for every storage backend.

`store` runs each test once per backend in backends.BACKENDS; tests that need a
SQLite file use `sqlite_store`; tests of what several stores (or processes) see of
one database use `opener`.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import BACKENDS, close
from contract_samples import Opener

from engine.adapters.storage.postgres import PostgresStore
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


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Opener]]:
    """How to open another store on one shared database, and that database's address."""
    if request.param == "sqlite":
        path = str(tmp_path / "shared.db")
        yield path, lambda: SqliteStore(path)
    else:
        url = request.getfixturevalue("pg_url")
        yield url, lambda: PostgresStore(url)
