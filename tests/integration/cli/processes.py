"""Running `seqengine` as a user does: the installed command in real processes,
`serve` on a free loopback port until the block ends."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SEQENGINE = str(Path(sys.executable).with_name("seqengine"))


def seqengine(*args: str, cwd: Path | None = None,
              env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One run of the command; `env` is added to a copy of this process's environment
    without any SEQENGINE_ variable (a developer's own must not leak in)."""
    return subprocess.run([SEQENGINE, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env=environment(env))


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SEQENGINE_")}
    return clean | dict(extra or {})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Wait for another process to do something (never for engine time to pass)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the process did not get there in time")
        time.sleep(0.05)


def stop_session(process: subprocess.Popen[str]) -> str:
    """SIGINT to a server started in a session of its own, then its output. One that is
    not gone within 30 s fails its test, killed with its whole session first: granian's
    workers would outlive their main process alone."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=30)[0] or ""
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/engine/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Server:
    base: str
    process: subprocess.Popen[str]
    out: Path  # stdout
    err: Path  # stderr (the logs)

    def stop(self) -> None:
        stop_session(self.process)


@contextmanager
def serving(command: list[str], port: int, folder: Path, *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Run `command` (a `seqengine ... serve` line) until it answers on `port`, then
    until the block ends; its stdout and stderr go to files in `folder`."""
    out, err = folder / f"serve-{port}.out", folder / f"serve-{port}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, cwd=cwd,
                                   env=environment(env), start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process, out, err)
    try:
        wait_until(lambda: _exited(process, err) or answers(server.base))
        yield server
    finally:
        server.stop()


def _exited(process: subprocess.Popen[str], err: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"serve exited {process.returncode}: {err.read_text()}")
    return False
