"""A throwaway PostgreSQL cluster for the tests, procrastinate-style.

The first test that needs PostgreSQL starts one cluster for the whole session:
`initdb` and `pg_ctl` from the server binaries on the machine (`pg_config
--bindir`, or /usr/lib/postgresql/*/bin, which Debian leaves off PATH), in a
temporary folder, on a free loopback port, as the `postgres` user (or
`nobody`) when the tests run as root, with durability turned off for speed.
A template database holds the migrated schema; each test gets a fresh
database cloned from it (`CREATE DATABASE x TEMPLATE tmpl`) and drops it
afterwards. The cluster is stopped and its folder removed when the session
ends.

When the cluster cannot start, PostgreSQL tests FAIL under CI (CI=true) and
are skipped, with the reason, elsewhere. `make test` installs the Debian
package when the binaries are missing.
"""

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.adapters.storage.postgres import PostgresStore

SCHEMA = "seqengine"
TEMPLATE = "seqengine_template"
SERVER_SETTINGS = (
    "fsync=off", "synchronous_commit=off", "full_page_writes=off",
    "max_connections=200", "shared_buffers=64MB", "listen_addresses=127.0.0.1",
    "wal_level=minimal", "max_wal_senders=0",
)


@dataclass
class Cluster:
    folder: Path
    bindir: Path
    port: int
    user: str | None  # the unprivileged user the server runs as (None: ourselves)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        _run([str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
              "-w", "stop"], self.user, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def find_bindir() -> Path | None:
    """The server binaries' folder: pg_config's answer, else the newest Debian one."""
    candidates: list[str] = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                         else 0, reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (
                Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _run(args: list[str], user: str | None, *, check: bool = True) -> str:
    done = subprocess.run(args, user=user, capture_output=True, text=True, timeout=120,
                          cwd="/")
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither `postgres` nor `nobody` exists")


def start_cluster(server_settings: tuple[str, ...] = SERVER_SETTINGS) -> Cluster:
    """A new cluster (the benchmarks start a durable one with their own settings)."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine: "
                           "`apt-get install postgresql` (make test does it)")
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="seqengine-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, sockets = folder / "data", folder / "sockets"
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
          "-E", "UTF8", "--locale=C", "--no-sync"], user)
    _run(["mkdir", "-p", str(sockets)], user)
    for attempt in range(5):  # the free port may be taken between the probe and the bind
        port = _free_port()
        options = " ".join(f"-c {s}" for s in server_settings)
        done = subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
             "-t", "60", "-o", f"-p {port} -k {sockets} {options}", "start"],
            user=user, capture_output=True, text=True, timeout=120, cwd="/")
        if done.returncode == 0:
            return Cluster(folder, bindir, port, user)
        if attempt == 4:
            log = (folder / "server.log").read_text(errors="replace")[-2000:]
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()}\n{log}")
    raise AssertionError("unreachable")


_lock = threading.Lock()
_cluster: Cluster | None = None
_failure: str | None = None
_names = itertools.count(1)


def cluster() -> Cluster:
    """The session's cluster, started on first use with the template database migrated."""
    global _cluster, _failure
    with _lock:
        if _cluster is None and _failure is None:
            try:
                started = start_cluster()
            except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                _failure = str(error)
            else:
                atexit.register(started.stop)
                started.admin(f"CREATE DATABASE {TEMPLATE}")
                with PostgresStore(started.url(TEMPLATE), schema=SCHEMA, pool_size=1):
                    pass  # migrates the template's schema
                _cluster = started
        if _cluster is None:
            unavailable(_failure or "unknown")
        assert _cluster is not None
        return _cluster


def unavailable(reason: str) -> None:
    message = f"the test PostgreSQL cluster cannot start: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def fresh_database() -> str:
    """The URL of a new database cloned from the migrated template."""
    found = cluster()
    name = f"test_{os.getpid()}_{next(_names)}"
    found.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return found.url(name)


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    cluster().admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class ThrowawayPostgresStore(PostgresStore):
    """A PostgresStore on its own fresh database, dropped when the store closes."""

    def __init__(self, **options: object) -> None:
        self.url = fresh_database()
        super().__init__(self.url, schema=SCHEMA, **options)  # type: ignore[arg-type]

    def close(self) -> None:
        super().close()
        drop_database(self.url)


@pytest.fixture(scope="session")
def pg_cluster() -> Cluster:
    return cluster()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh database (schema migrated) for one test, dropped afterwards."""
    url = fresh_database()
    yield url
    drop_database(url)
