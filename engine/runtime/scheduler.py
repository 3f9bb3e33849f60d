"""The scheduler: one worker running due work by the protocol of engine/app/execution.py.

One thread claims, never more than the free sender slots (`concurrency`); the
sender threads deliver, holding no lock and no transaction while a send runs,
and record: the outcomes ready at once go in one transaction (a group commit:
the thread that finds no record under way records every outcome queued until
none is left, the others queue theirs and move on); a heartbeat renews the
leases of the sends under way at half the lease. With nothing due, the claimer
sleeps until the next due instant (at most `max_idle`), or until woken: by a
commit of this process's engine, or by the store (PostgreSQL's LISTEN).
`stop()` drains: no new claims, sends not started are handed back (due again at
once), sends under way finish and are recorded.

Runs in a `seqengine worker` process or in threads of `seqengine serve`; in
simulated mode none of this runs (time only moves inside an advance).
"""

import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from engine.adapters.storage.errors import StorageConflict
from engine.app.execution import IN_RECORD, SKIPPED, Claim, InRecord, Outcome
from engine.app.ports import TaskCreated
from engine.app.service import SequenceEngine
from engine.errors import DeliveryError, EngineError

log = logging.getLogger("seqengine.scheduler")

Failpoint = Callable[[str], None]


def worker_name() -> str:
    """Unique per process and start: a lease names the worker that holds it."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def no_failpoint(name: str) -> None:
    return None


def failpoint_from_environment() -> Failpoint:
    """SEQENGINE_FAILPOINT=after_claim|after_send|before_record kills this process
    (SIGKILL, no clean-up) the first time it gets there: the crash tests' lever."""
    chosen = os.environ.get("SEQENGINE_FAILPOINT")
    if not chosen:
        return no_failpoint

    def failpoint(name: str) -> None:
        if name == chosen:
            os.kill(os.getpid(), signal.SIGKILL)

    return failpoint


class Scheduler:
    def __init__(
        self,
        engine: SequenceEngine,
        *,
        concurrency: int = 1,
        max_idle: float | None = None,
        worker: str | None = None,
        wake: threading.Event | None = None,
        failpoint: Failpoint = no_failpoint,
    ) -> None:
        """`wake` is the event this process's engine sets on commit (bootstrap wires it).
        `max_idle` is the longest sleep: by default 1 s, since writes of other
        processes are seen only by looking, or 30 s on a store that notifies
        (PostgreSQL's LISTEN wakes every worker when work is added)."""
        if max_idle is None:
            max_idle = 30.0 if hasattr(engine.store, "listen_due") else 1.0
        if concurrency < 1 or max_idle <= 0:
            raise ValueError("concurrency must be at least 1 and max_idle positive")
        self.engine = engine
        self.executor = engine.executor(worker or worker_name())
        self.concurrency, self.max_idle = concurrency, max_idle
        self.renew_every = engine.policy.lease.total_seconds() / 2  # as apscheduler does
        self.wake = wake or threading.Event()
        self.failpoint = failpoint
        self.stopping = threading.Event()
        self._sends_ended = threading.Event()  # the heartbeat runs until then
        self._held: dict[int, Claim] = {}  # enrollment id -> claim, lease as last renewed
        self._recording: set[int] = set()  # enrollment ids whose outcome is being recorded
        self._held_lock = threading.Lock()
        self._outcomes: list[tuple[Claim, Outcome | InRecord]] = []  # delivered, not yet recorded
        self._outcomes_lock = threading.Lock()
        self._recorder_busy = False  # a sender thread is recording the queued outcomes
        self._slot_freed = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._claimer: threading.Thread | None = None
        self._heartbeater: threading.Thread | None = None
        self._unlisten: Callable[[], None] | None = None

    @property
    def worker(self) -> str:
        return self.executor.worker

    @property
    def _me(self) -> dict[str, object]:
        """The `extra` of log lines about this worker rather than one claim."""
        return {"worker": self.worker}

    # -- one pass in the caller's thread ----------------------------------------

    def run_once(self) -> int:
        """Claim, send and record what is due now, in this thread."""
        try:
            return self.executor.run_due()
        except EngineError as error:  # a storage hiccup: log it and try again later
            log.warning("due work failed: %s", error.message, extra=self._me)
            return 0
        except Exception:  # a bug must not stop the loop: claims are retried after their lease
            log.exception("due work failed unexpectedly", extra=self._me)
            return 0

    # -- the threads ------------------------------------------------------------

    def start(self) -> None:
        self.stopping.clear()
        self._sends_ended.clear()
        listen = getattr(self.engine.store, "listen_due", None)  # PostgreSQL's NOTIFY
        if listen is not None:
            self._unlisten = listen(self.wake.set)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="seqengine-send")
        self._claimer = threading.Thread(target=self._claim_loop, name="seqengine-claim",
                                         daemon=True)
        self._heartbeater = threading.Thread(target=self._heartbeat, name="seqengine-heartbeat",
                                             daemon=True)
        self._claimer.start()
        self._heartbeater.start()

    def stop(self) -> None:
        """Drain: stop claiming, hand back what was not sent, finish what is under way.
        The heartbeat goes on renewing until the last send ends: a send that outlasts
        the lease must not be taken over (and sent again) while the drain waits for it."""
        self.stopping.set()
        self.wake.set()
        self._slot_freed.set()
        if self._claimer is not None:
            self._claimer.join()
            self._claimer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._sends_ended.set()
        if self._heartbeater is not None:
            self._heartbeater.join()
            self._heartbeater = None
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def _free_slots(self) -> int:
        with self._held_lock:
            return self.concurrency - len(self._held)

    def _claim_loop(self) -> None:
        backlog = False  # the last claim took all it asked for: more is likely due
        while not self.stopping.is_set():
            free = self._free_slots()
            if free == 0:
                self._slot_freed.wait(self.max_idle)
                self._slot_freed.clear()
                continue
            if not backlog and not self._due_now():
                self._sleep()
                continue
            backlog = False
            try:
                claims, taken = self.executor.claim(free, send_in_store=True)
            except StorageConflict:
                continue  # another worker won a row: try again at once
            except EngineError as error:
                log.warning("claiming due work failed: %s", error.message, extra=self._me)
                self.stopping.wait(self.max_idle)
                continue
            except Exception:
                log.exception("claiming due work failed unexpectedly", extra=self._me)
                self.stopping.wait(self.max_idle)
                continue
            self.failpoint("after_claim")
            backlog = taken == free
            if taken == 0:  # due rows another transaction holds (SKIP LOCKED): let it end
                self.stopping.wait(0.05)
            for claim in claims:
                with self._held_lock:
                    self._held[claim.lease.enrollment_id] = claim
                assert self._pool is not None
                self._pool.submit(self._send, claim)

    def _due_now(self) -> bool:
        try:
            due = self.engine.next_due_at()
        except EngineError as error:
            log.warning("reading the next due instant failed: %s", error.message,
                        extra=self._me)
            return False
        return due is not None and due <= self.engine.clock.now()

    def _sleep(self) -> None:
        """Until the next due instant, at most max_idle, or until woken."""
        timeout = self.max_idle
        try:
            due = self.engine.next_due_at()
        except EngineError:
            due = None
        if due is not None:
            timeout = min(timeout, max(0.0, (due - self.engine.clock.now()).total_seconds()))
        if self.wake.wait(timeout):
            self.wake.clear()

    def _send(self, claim: Claim) -> None:
        queued = False
        try:
            with self._held_lock:
                lease = self._held.get(claim.lease.enrollment_id, claim).lease
            claim = replace(
                claim, lease=lease, request=replace(claim.request, lease_expires_at=lease.until)
            )
            outcome: Outcome | InRecord = SKIPPED  # stopping: hand it back unsent
            if self.stopping.is_set():
                pass
            elif self.executor.sends_in_record(claim):
                outcome = IN_RECORD  # a write to the store: made by the record, fenced there
            else:
                outcome = self.executor.deliver(claim)
                self.failpoint("after_send")
            with self._held_lock:  # the record releases the lease: that is no loss
                self._recording.add(claim.lease.enrollment_id)
            self.failpoint("before_record")
            with self._outcomes_lock:
                self._outcomes.append((claim, outcome))
                queued = True
                if self._recorder_busy:
                    return  # the thread recording now takes this one in its next batch
                self._recorder_busy = True
            self._record_outcomes()
        except Exception:  # the lease runs out and the send is retried: never lose the worker
            log.exception("a send failed unexpectedly", extra=_ids(claim))
        finally:
            if not queued:
                self._done([claim])

    def _record_outcomes(self) -> None:
        """Record every outcome queued, a batch per transaction, until none is left
        (group commit: the sender threads that queue meanwhile do not wait)."""
        while True:
            with self._outcomes_lock:
                batch, self._outcomes = self._outcomes, []
                if not batch:
                    self._recorder_busy = False
                    return
            try:
                recorded = self._record(batch)
                for (claim, _), outcome in zip(batch, recorded, strict=True):
                    _log_outcome(claim, outcome)
            except Exception:  # their leases run out and the sends are retried
                log.exception("recording outcomes failed unexpectedly", extra=self._me)
            finally:
                self._done([claim for claim, _ in batch])

    def _done(self, claims: list[Claim]) -> None:
        with self._held_lock:
            for claim in claims:
                enrollment_id = claim.lease.enrollment_id
                held = self._held.get(enrollment_id)
                if held is None or held.lease.seq != claim.lease.seq:
                    continue  # once recorded, the enrollment may be claimed again at once
                del self._held[enrollment_id]
                self._recording.discard(enrollment_id)
        self._slot_freed.set()

    def _record(self, batch: list[tuple[Claim, Outcome | InRecord]]) -> list[Outcome | None]:
        while True:
            try:
                return self.executor.record_all(batch)
            except StorageConflict:
                continue

    def _heartbeat(self) -> None:
        while not self._sends_ended.wait(self.renew_every):
            with self._held_lock:
                claims = list(self._held.values())
            try:
                held = self.executor.renew([claim.lease for claim in claims])
            except EngineError as error:
                log.warning("renewing leases failed: %s", error.message, extra=self._me)
                continue
            renewed = {lease.enrollment_id: lease for lease in held}
            lost = []
            with self._held_lock:
                for claim in claims:
                    enrollment_id = claim.lease.enrollment_id
                    current = self._held.get(enrollment_id)
                    if current is None or current.lease.seq != claim.lease.seq:
                        continue  # that send ended (and a newer claim may have its place)
                    if enrollment_id in renewed:
                        self._held[enrollment_id] = replace(current, lease=renewed[enrollment_id])
                    elif enrollment_id not in self._recording:
                        lost.append(claim)
            for claim in lost:
                log.warning("lease lost: another worker took the delivery over",
                            extra=_ids(claim))


def _ids(claim: Claim) -> dict[str, object]:
    """The `extra` of every log line about one claim (rendered by the JSON log format)."""
    request = claim.request
    return {"account_id": request.account_id, "enrollment_id": request.enrollment_id,
            "position": request.position, "idempotency_key": request.idempotency_key,
            "kind": claim.kind}


def _log_outcome(claim: Claim, outcome: Outcome | None) -> None:
    """`outcome` as recorded; None: dropped."""
    ids = _ids(claim)
    if outcome is None:
        log.warning("outcome dropped: the lease was taken over", extra=ids)
    elif outcome is SKIPPED:
        log.info("%s skipped: lease lost or enrollment finished", claim.kind, extra=ids)
    elif isinstance(outcome, DeliveryError):
        log.info("%s failed, will retry: %s", claim.kind, outcome.message, extra=ids)
    elif isinstance(outcome, TaskCreated):
        log.info("task created in the host: %s", outcome.task_id, extra=ids)
    elif outcome.sent:
        log.info("sent", extra=ids)
    else:
        log.info("send blocked: %s", outcome.failure_reason, extra=ids)
