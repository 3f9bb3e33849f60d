"""Fixtures of the HTTP integration tests (the world itself is in http_world.py)."""

from collections.abc import Iterator

import pytest
from http_world import Api, build_api


@pytest.fixture
def api() -> Iterator[Api]:
    yield build_api()
