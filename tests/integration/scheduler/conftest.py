"""Fixtures of the scheduler's crash tests: a database URL per backend, webhook
receivers, and a fleet of worker processes that is never left running."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fleet import Fleet
from webhook_receiver import Receiver

# The backends every process test runs on: one entry each. PostgreSQL's is a fresh
# database cloned from the migrated template in the session's throwaway cluster
# (tests/pg_cluster.py).
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], str]] = {
    "sqlite": lambda request, tmp: f"sqlite:///{tmp / 'seqengine.db'}",
    "postgres": lambda request, tmp: str(request.getfixturevalue("pg_url")),
}


@pytest.fixture(params=sorted(BACKENDS))
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    started = Fleet(tmp_path)
    yield started
    started.close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """`receivers(delay=...)` starts a webhook receiver; all are closed afterwards."""
    opened: list[Receiver] = []

    def open_receiver(delay: Callable[[str], float] | float = 0.0) -> Receiver:
        receiver = Receiver(delay)
        opened.append(receiver)
        return receiver

    yield open_receiver
    for receiver in opened:
        receiver.close()
