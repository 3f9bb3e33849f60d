"""End-to-end fixtures: one real server (granian, SQLite, simulated clock) per module."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_world import Client, seed, serve


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    path: Path = tmp_path_factory.mktemp("e2e") / "seqengine.db"
    url = f"sqlite:///{path}"
    return url, seed(url)


@pytest.fixture(scope="module")
def server(database: tuple[str, dict]) -> Iterator[Client]:
    url, world = database
    with serve(url) as base:
        client = Client(base, world["tokens"])
        yield client
        client.http.close()
