"""Fixtures of the HTTP integration tests (the world itself is in http_world.py).

`api` is the world on the in-memory store and again on a SQLite file, where GET one
has its fast path (engine/adapters/http/fast_get.py): every answer must be the same."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from http_world import Api, build_api

from engine.adapters.storage.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    if request.param == "memory":
        yield build_api()
        return
    store = SqliteStore(str(tmp_path / "api.db"))
    try:
        yield build_api(store=store)
    finally:
        store.close()


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[tuple[Api, Path]]:
    """The world on a SQLite file, and the file (for other connections to it)."""
    path = tmp_path / "world.db"
    store = SqliteStore(str(path))
    try:
        yield build_api(store=store), path
    finally:
        store.close()
