"""Real `seqengine worker` processes over one database, and the database they share.

`prepare(url, ...)` seeds an account, a user without sending limits, a sequence of
email steps that are all due at once (delay 0 hours), and N enrollments due now,
through `open_store(url)` as any backend would be opened. `Fleet` starts and
stops workers (the installed `seqengine` command, or paused_worker.py for a
worker that pauses itself at a named point), each writing its stderr to a file
the test reads afterwards. `Probe` reads the shared database.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from webhook_receiver import SECRET

from engine import ActionStatus, ActionType, DelayUnit, Enrollment, Page, Step, SystemClock, build
from engine.app import catalog, enrollments
from engine.app.ports import Clock, EnrollmentFilter, Store
from engine.app.service import SequenceEngine
from engine.domain.enums import ResourceType
from engine.runtime.settings import open_store

SEQENGINE = str(Path(sys.executable).with_name("seqengine"))
PAUSED_WORKER = str(Path(__file__).with_name("paused_worker.py"))
UNLIMITED = 10**9


def wait_until(check: Callable[[], bool], seconds: float = 30.0, what: str = "it") -> None:
    """Poll for something another process does (never for engine time to pass)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.02)


# -- the database --------------------------------------------------------------


@dataclass(frozen=True)
class World:
    url: str
    account: int
    actor: int
    sequence: int
    steps: int
    ids: tuple[int, ...]

    def keys(self, ids: Iterable[int] | None = None) -> set[str]:
        """The idempotency keys of every step of these enrollments (first generation)."""
        chosen = self.ids if ids is None else tuple(ids)
        return {f"{e}:{p}:0" for e in chosen for p in range(self.steps)}


def prepare(url: str, enrollments_due: int, steps: int = 1, clock: Clock | None = None) -> World:
    """Seed the database at `url` with `enrollments_due` enrollments due now."""
    store = open_store(url)
    try:
        engine = build(store, clock or SystemClock())
        account = engine.create_account("crash", daily_email_quota=UNLIMITED).id
        actor = engine.create_user(account, daily_email_limit=UNLIMITED).id
        sequence = engine.create_sequence(account, name="due now", creator_id=actor, steps=[
            Step(p, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 100 + p, False)
            for p in range(steps)
        ]).id
        ids = enroll_many(engine, account, sequence, actor, enrollments_due)
    finally:
        store.close()
    return World(url, account, actor, sequence, steps, tuple(ids))


def enroll_many(engine: SequenceEngine, account_id: int, sequence_id: int, actor_id: int,
                count: int, first_resource: int = 1, chunk: int = 1000) -> list[int]:
    """Enroll `count` leads, a thousand per transaction (seeding 20,000 one by one is slow)."""
    ids: list[int] = []
    for start in range(0, count, chunk):
        with engine.store.unit_of_work() as uow:
            account = catalog.reach_account(uow, account_id)
            for resource in range(start, min(count, start + chunk)):
                ids.append(enrollments.create_enrollment(
                    uow, engine.clock.now(), account, sequence_id=sequence_id,
                    resource_type=ResourceType.LEAD, resource_id=first_resource + resource,
                    actor_id=actor_id).id)
            uow.commit()
    return ids


class Probe:
    """The test's own view of the shared database."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.store: Store = open_store(world.url)
        self.engine = build(self.store, SystemClock())

    def close(self) -> None:
        self.store.close()

    def drained(self) -> bool:
        """Nothing due and nothing leased: every enrollment reached a rest."""
        return self.engine.next_due_at() is None

    def enrollments(self) -> list[Enrollment]:
        found: list[Enrollment] = []
        where = EnrollmentFilter()
        with self.store.unit_of_work(read_only=True) as uow:
            while True:
                page = uow.list_enrollments(self.world.account, where,
                                            Page(len(found) // 1000 + 1, 1000))
                found += page
                if len(page) < 1000:
                    return found

    def statuses(self) -> dict[int, list[ActionStatus]]:
        return {e.id: [a.status for a in e.actions] for e in self.enrollments()}

    def in_progress(self) -> list[int]:
        return sorted(e.id for e in self.enrollments()
                      if e.is_ongoing and e.current_action.status is ActionStatus.IN_PROGRESS)

    def finish(self, enrollment_id: int) -> None:
        """PUT state=finished, through the library."""
        self.engine.update_enrollment_state(self.world.account, enrollment_id, "finished",
                                            actor_id=self.world.actor)


# -- the processes -------------------------------------------------------------


class Worker:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as output:  # its start line goes to stdout, its logs to stderr
            self.process = subprocess.Popen(args, env=env, stdout=output, stderr=output)
        self.pid = self.process.pid

    def signal(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> int:
        self.signal(signal.SIGKILL)
        return self.process.wait(timeout=30)

    def wait(self, seconds: float = 30.0) -> int:
        return self.process.wait(timeout=seconds)

    def ready(self) -> bool:
        """Its SIGTERM handler is installed (it says so right after)."""
        return "seqengine: worker on" in self.stderr()

    def terminate(self, seconds: float = 30.0) -> int:
        """SIGTERM, once it can take one: the worker drains and exits."""
        wait_until(lambda: self.ready() or self.process.poll() is not None, what="start-up")
        self.signal(signal.SIGTERM)
        return self.process.wait(timeout=seconds)

    @property
    def stopped(self) -> bool:
        """SIGSTOPped (state T in /proc)."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except FileNotFoundError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] == "T"

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


class Fleet:
    """Starts workers on one database and leaves none running after the test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.workers: list[Worker] = []

    def start(self, url: str, *, delivery: str = "outbox", lease: float = 2.0,
              concurrency: int = 2, poll: float = 0.2, failpoint: str | None = None,
              pause: str | None = None) -> Worker:
        """`failpoint`: SEQENGINE_FAILPOINT (SIGKILL there); `pause`: paused_worker.py's
        `point#n:action` (the worker stops or terminates itself there)."""
        args = ["--db", url, "worker", "--concurrency", str(concurrency),
                "--lease-seconds", str(lease), "--poll-seconds", str(poll),
                "--delivery", delivery, "--webhook-secret", SECRET]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEQENGINE_")}
        if failpoint is not None:
            env["SEQENGINE_FAILPOINT"] = failpoint
        command = [SEQENGINE, *args]
        if pause is not None:
            env["SEQENGINE_TEST_PAUSE"] = pause
            command = [sys.executable, PAUSED_WORKER, *args]
        worker = Worker(command, env, self.folder / f"worker-{len(self.workers)}.err")
        self.workers.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.kill()
