"""A small host backend that embeds seqengine as a library (docs/embedding.md).

The host is a CRM of its own: it keeps its emails and its tasks in its own tables,
beside the engine's, in one SQLite file. It gives the engine both delivery ports:

- `HostEmails` (the EmailDelivery port) "sends" an email by recording it in
  `host_emails`, once per idempotency key;
- `HostTasks` (the TaskDelivery port) creates a task in `host_tasks`, once per
  key, and hands its id back to the engine.

Both refuse a delivery that arrives after its `lease_expires_at` (the worker that
made it no longer held the step; another one will deliver it with the same key).
When a user completes or deletes one of the host's tasks, the host updates its
table and reports the event to the engine, naming the step (enrollment_id and
position). The report is idempotent, so a host that crashes between its own
commit and the report simply reports again.

Run `python -m examples.host_backend.host` for a short tour.
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from engine import SequenceEngine, TaskCompleted, TaskDeleted, build
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import SENT, Clock, SendRequest, SendResult, TaskCreated, TaskRequest
from engine.errors import DeliveryError

SCHEMA = """
CREATE TABLE IF NOT EXISTS host_emails (
    idempotency_key TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL,
    enrollment_id INTEGER NOT NULL,
    template_id INTEGER,
    lead_id INTEGER NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS host_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    enrollment_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    owner_id INTEGER NOT NULL,
    lead_id INTEGER NOT NULL,
    content TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
);
"""


@dataclass(frozen=True)
class HostTask:
    id: int
    enrollment_id: int
    position: int
    content: str
    status: str


class HostDatabase:
    """The host's own connection to the shared file (its tables only)."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, timeout=10, check_same_thread=False,
                                          isolation_level=None)
        self.lock = threading.Lock()
        self.connection.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


class HostEmails:
    """The EmailDelivery port: an email is sent once per key."""

    def __init__(self, db: HostDatabase) -> None:
        self.db = db

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        if now >= request.lease_expires_at:
            raise DeliveryError("arrived after its lease: another worker will send it")
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO host_emails VALUES (?, ?, ?, ?, ?, ?)",
                (request.idempotency_key, request.account_id, request.enrollment_id,
                 request.email_template_id, request.resource_id, now.isoformat()))
        return SENT


class HostTasks:
    """The TaskDelivery port: a task is created once per key; its id goes back."""

    def __init__(self, db: HostDatabase) -> None:
        self.db = db

    def create(self, request: TaskRequest, now: datetime) -> TaskCreated:
        if now >= request.lease_expires_at:
            raise DeliveryError("arrived after its lease: another worker will create it")
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO host_tasks (idempotency_key, account_id, enrollment_id,"
                " position, owner_id, lead_id, content, due_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (request.idempotency_key, request.account_id, request.enrollment_id,
                 request.position, request.actor_id, request.resource_id, request.content,
                 request.due_date.isoformat()))
            (task_id,) = tx.execute("SELECT id FROM host_tasks WHERE idempotency_key = ?",
                                    (request.idempotency_key,)).fetchone()
        return TaskCreated(int(task_id))


class HostBackend:
    """The host: its tables, and the engine it embeds, on one SQLite file."""

    def __init__(self, path: str, clock: Clock) -> None:
        self.store = SqliteStore(path)  # creates or migrates the engine's own tables
        self.db = HostDatabase(path)
        self.engine: SequenceEngine = build(
            self.store, clock, HostEmails(self.db), tasks=HostTasks(self.db))

    # what the host's users do with their tasks

    def complete_task(self, task_id: int) -> None:
        account_id, enrollment_id, position = self._mark(task_id, "done")
        self.engine.handle(account_id, TaskCompleted(enrollment_id=enrollment_id,
                                                     position=position))

    def delete_task(self, task_id: int) -> None:
        account_id, enrollment_id, position = self._mark(task_id, "deleted")
        self.engine.handle(account_id, TaskDeleted(enrollment_id=enrollment_id,
                                                   position=position))

    def _mark(self, task_id: int, status: str) -> tuple[int, int, int]:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT account_id, enrollment_id, position FROM host_tasks"
                             " WHERE id = ?", (task_id,)).fetchone()
            if row is None:
                raise LookupError(f"no task {task_id}")
            tx.execute("UPDATE host_tasks SET status = ? WHERE id = ?", (status, task_id))
        return int(row[0]), int(row[1]), int(row[2])

    # what the host shows

    def emails(self) -> list[tuple[str, int, int]]:
        """(idempotency key, enrollment, template) of every email sent."""
        with self.db.lock:
            rows = self.db.connection.execute(
                "SELECT idempotency_key, enrollment_id, template_id FROM host_emails"
                " ORDER BY sent_at, idempotency_key").fetchall()
        return [(str(k), int(e), int(t)) for k, e, t in rows]

    def tasks(self) -> list[HostTask]:
        with self.db.lock:
            rows = self.db.connection.execute(
                "SELECT id, enrollment_id, position, content, status FROM host_tasks"
                " ORDER BY id").fetchall()
        return [HostTask(*row) for row in rows]

    def close(self) -> None:
        self.db.close()
        self.store.close()


def tour() -> None:
    """Enroll a lead, let time pass, complete the host's task: the sequence runs on."""
    import tempfile
    from datetime import UTC
    from pathlib import Path

    from engine import ActionType, DelayUnit, SimulatedClock, Step

    with tempfile.TemporaryDirectory() as folder:
        clock = SimulatedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        host = HostBackend(str(Path(folder) / "crm.db"), clock)
        engine = host.engine
        account = engine.create_account("Acme").id
        rep = engine.create_user(account, time_zone="Europe/Warsaw").id
        sequence = engine.create_sequence(account, name="Call, then follow up", creator_id=rep,
                                          steps=[
            Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 101, False),
            Step(1, 2, DelayUnit.HOURS, ActionType.TASK, task_content="Call the lead"),
            Step(2, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 102, True),
        ]).id
        engine.enroll(account, sequence_id=sequence, resource_type="lead", resource_id=42,
                      actor_id=rep)
        engine.advance(seconds=3 * 3600)
        print("emails:", host.emails())
        print("tasks:", host.tasks())
        host.complete_task(host.tasks()[0].id)
        engine.advance(seconds=2 * 86400)
        print("emails:", host.emails())
        host.close()


if __name__ == "__main__":
    tour()
