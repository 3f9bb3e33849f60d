"""`seqengine serve` on a SQLite file, for the tests of the runtime's operations
(metrics, task webhook, drain); built on tests/integration/cli/processes.py."""

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.integration.cli.processes import SEQENGINE, free_port, seqengine, serving, wait_until

__all__ = ["SEQENGINE", "SIMULATED", "START", "demo", "free_port", "serve_sqlite", "wait_until"]

START = "2020-12-15T19:58:53.526Z"
SIMULATED = ("--clock", "simulated", "--start", START)


@contextmanager
def serve_sqlite(db: Path, *extra: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Serve `db` on a free loopback port until the block ends; yields the base URL
    (logs go to files beside the database)."""
    port = free_port()
    command = [SEQENGINE, "--db", f"sqlite:///{db}", "serve", "--port", str(port), *extra]
    with serving(command, port, db.parent, env=env) as server:
        yield server.base


def demo(db: Path, *extra: str) -> dict[str, Any]:
    done = seqengine("--db", f"sqlite:///{db}", "--json", "demo", *extra)
    assert done.returncode == 0, done.stderr
    made: dict[str, Any] = json.loads(done.stdout)
    return made
