"""Fixtures of the Sell client tests: our own server, reached in-process through
`httpx.WSGITransport` and over a real socket on 127.0.0.1, built by the HTTP
tests' own world (tests/integration/http/http_world.py)."""

import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "http"))  # the HTTP tests' world

import pytest
from sell_world import Serving, WorldFactory, make_world


@pytest.fixture(params=["in_process", "loopback"])
def worlds(request: pytest.FixtureRequest) -> Iterator[WorldFactory]:
    """Builds worlds (an engine, its app, its tokens) reached the parametrised way."""
    with Serving() as serving:
        yield lambda **options: make_world(request.param, serving, **options)


@pytest.fixture
def world(worlds: WorldFactory):
    return worlds()


@pytest.fixture
def loopback():
    """Builds worlds served on 127.0.0.1 only (for clients that need a socket)."""
    with Serving() as serving:
        yield lambda **options: make_world("loopback", serving, **options)


@pytest.fixture
def sell(world):
    with world.client() as client:
        yield client
