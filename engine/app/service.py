"""SequenceEngine: the use cases behind one object, each in its own transaction.

This is the library's front door (the HTTP server and the CLI use it too). It
reads time only from its injected Clock and touches storage only through the
Store port.
"""

import threading
from collections.abc import Callable, Iterable
from collections.abc import Sequence as Seq
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar, TypeVarTuple

from engine.app import catalog, enrollments, execution, in_process, tasks
from engine.app.events import handle_event
from engine.app.observer import NO_OBSERVER, ExecutionObserver
from engine.app.policy import ExecutionPolicy
from engine.app.ports import (
    Clock,
    EmailDelivery,
    EnrollmentFilter,
    FailureRule,
    OutboxMessage,
    Page,
    SequenceFilter,
    SettableClock,
    Store,
    TaskDelivery,
    TaskFilter,
    UnitOfWork,
)
from engine.app.views import EnrollmentView, overdue_position
from engine.domain.account import Account, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import EnrollmentState, ResourceType
from engine.domain.events import Event
from engine.domain.sequence import Sequence, Step, UnsubscribeSettings
from engine.domain.task import Task
from engine.errors import ClockNotSimulated, ErrorDetail, NotFound, ValidationFailed
from engine.timeline import BusinessCalendar

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class _Transaction:
    """`with engine._transaction() as uow`: a unit of work of the store, committed if
    the block ends without an exception, then `on_commit`. What

        with store.unit_of_work() as uow:
            yield uow
            uow.commit()
        on_commit()

    does under @contextmanager (a unit of work never suppresses an exception: its
    __exit__ returns None), without the generator, whose enter and exit cost ~2 us a
    write: 3-4% of a simulation (P4)."""

    __slots__ = ("_on_commit", "_store", "_unit", "_uow")

    def __init__(self, store: Store, on_commit: Callable[[], None] | None) -> None:
        self._store, self._on_commit = store, on_commit

    def __enter__(self) -> UnitOfWork:
        self._unit: UnitOfWork = self._store.unit_of_work()
        self._uow: UnitOfWork = self._unit.__enter__()
        return self._uow

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        unit = self._unit
        if exc_type is not None:
            unit.__exit__(exc_type, exc, tb)  # rolls back; the block's exception goes on
            return
        try:
            self._uow.commit()
        except BaseException as error:
            unit.__exit__(type(error), error, error.__traceback__)
            raise
        unit.__exit__(None, None, None)
        if self._on_commit is not None:
            self._on_commit()


class SequenceEngine:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        delivery: EmailDelivery,
        policy: ExecutionPolicy | None = None,
        *,
        on_commit: Callable[[], None] | None = None,
        tasks: TaskDelivery | None = None,
        observer: ExecutionObserver = NO_OBSERVER,
    ) -> None:
        """`on_commit` is called after every write this engine commits (the scheduler
        of the same process passes its wake-up: an enroll or resume may be due sooner
        than what it sleeps for). `tasks`: a host that keeps its own tasks (None: the
        engine keeps them). `observer` hears how due work runs (metrics)."""
        self.store, self.clock, self.delivery = store, clock, delivery
        self.policy = policy or ExecutionPolicy()
        self.on_commit = on_commit
        self.tasks, self.observer = tasks, observer
        self._joined = threading.local()  # .uow: this thread's shared read (begin_shared_read)
        # the parts the in-process pass was last judged on, and its executor (or None)
        self._in_process: tuple[tuple[Any, ...], execution.Executor | None] | None = None

    def _transaction(self) -> "_Transaction":
        return _Transaction(self.store, self.on_commit)

    def _write(self, work: Callable[[UnitOfWork, *Ts], T], *args: *Ts) -> T:
        """`work(uow, *args)` in a write transaction, as `_transaction` runs it; a store
        with `run_batched` may commit it together with other threads' writes (each still
        gets its own result or exception, and only after the commit). The arguments
        rather than a closure over them: its cells cost ~0.3 us a write (P4)."""
        # a store that commits concurrent writes together (SQLite's group commit)
        batched: Callable[[Callable[[UnitOfWork], T]], T] | None = getattr(
            self.store, "run_batched", None)
        if batched is None:
            # what `_transaction` does, written out: the unit of work's own `with`
            # enters, commits and leaves it in the same order, without the
            # _Transaction object's three calls (~0.45 us a write, P4: every arrival)
            with self.store.unit_of_work() as uow:
                result = work(uow, *args)
                uow.commit()
        else:
            result = batched(lambda uow: work(uow, *args))
        if self.on_commit is not None:
            self.on_commit()
        return result

    def _reading(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only transaction: on SQLite it reads beside writers, never behind them.
        Inside begin_shared_read() on this thread, that one (left open on exit)."""
        shared: UnitOfWork | None = getattr(self._joined, "uow", None)
        if shared is not None:
            return nullcontext(shared)
        return self.store.unit_of_work(read_only=True)

    def begin_shared_read(self) -> UnitOfWork:
        """Open a read-only transaction that every read of this engine on this thread
        joins until end_shared_read(): the HTTP layer checks a GET's token and runs its
        use case in one transaction, one snapshot (engine.adapters.http.gate), instead
        of one each. Writes never join it; the caller must end it on every path."""
        self.end_shared_read()
        uow = self.store.unit_of_work(read_only=True)
        self._joined.uow = uow.__enter__()
        return self._joined.uow  # type: ignore[no-any-return]

    def end_shared_read(self) -> None:
        """Close this thread's shared read, if it has one (rolls back: it only read)."""
        uow: UnitOfWork | None = getattr(self._joined, "uow", None)
        if uow is not None:
            self._joined.uow = None
            uow.__exit__(None, None, None)

    # -- accounts, users, sequences ---------------------------------------

    def create_account(
        self,
        name: str,
        *,
        reach_enabled: bool = True,
        account_id: int | None = None,
        daily_email_quota: int | None = None,
    ) -> Account:
        with self._transaction() as uow:
            return catalog.create_account(
                uow,
                name,
                reach_enabled=reach_enabled,
                account_id=account_id,
                daily_email_quota=daily_email_quota,
            )

    def get_account(self, account_id: int) -> Account:
        with self._reading() as uow:
            account = uow.get_account(account_id)
        if account is None:
            raise NotFound("account", account_id)
        return account

    def create_user(self, account_id: int, *, user_id: int = 0, **calendar: Any) -> User:
        """A user of the account; `calendar` takes time_zone, holidays, weekmask,
        send_window, daily_email_limit and name."""
        with self._transaction() as uow:
            account = uow.get_account(account_id)
            if account is None:
                raise NotFound("account", account_id)
            return catalog.create_user(uow, account, User(user_id, account_id, **calendar))

    def get_user(self, user_id: int) -> User:
        with self._reading() as uow:
            user = uow.get_user(user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user

    def get_account_user(self, account_id: int, user_id: int) -> User:
        """A user of this account; another account's users do not exist for it."""
        user = self.get_user(user_id)
        if user.account_id != account_id:
            raise NotFound("user", user_id)
        return user

    def list_users(self, account_id: int, page: Page = Page()) -> list[User]:
        with self._reading() as uow:
            return uow.list_users(account_id, page)

    def update_user(self, user_id: int, **changes: Any) -> User:
        """Change a user's calendar or limit; the actor's pending steps are re-planned."""
        with self._transaction() as uow:
            user = uow.get_user(user_id)
            if user is None:
                raise NotFound("user", user_id)
            return catalog.update_calendar(uow, user, **changes)

    def create_sequence(
        self,
        account_id: int,
        *,
        name: str,
        steps: Iterable[Step],
        creator_id: int,
        unsubscribe_settings: UnsubscribeSettings | None = None,
        sequence_id: int | None = None,
        created_at: datetime | None = None,
    ) -> Sequence:
        with self._transaction() as uow:
            return catalog.create_sequence(
                uow,
                self.clock.now(),
                catalog.reach_account(uow, account_id),
                name=name,
                steps=steps,
                creator_id=creator_id,
                unsubscribe_settings=unsubscribe_settings,
                sequence_id=sequence_id,
                created_at=created_at,
            )

    def update_sequence(self, account_id: int, sequence_id: int, **changes: Any) -> Sequence:
        with self._transaction() as uow:
            return catalog.update_sequence(
                uow,
                self.clock.now(),
                catalog.reach_account(uow, account_id),
                sequence_id,
                **changes,
            )

    def get_sequence(self, account_id: int, sequence_id: int) -> Sequence:
        with self._reading() as uow:
            return catalog.get_sequence(uow, catalog.reach_account(uow, account_id), sequence_id)

    def list_sequences(
        self, account_id: int, where: SequenceFilter = SequenceFilter(), page: Page = Page()
    ) -> list[Sequence]:
        with self._reading() as uow:
            account = catalog.reach_account(uow, account_id)
            return catalog.list_sequences(uow, account, where, page)

    # -- enrollments -------------------------------------------------------

    def enroll(
        self,
        account_id: int,
        *,
        sequence_id: int,
        resource_type: ResourceType | str,
        resource_id: int,
        actor_id: int,
        enrollment_id: int | None = None,
    ) -> EnrollmentView:
        kind = ResourceType(resource_type)

        def create(uow: UnitOfWork) -> EnrollmentView:
            enrollment = self._create_enrollment(
                uow, account_id, sequence_id, kind, resource_id, actor_id, enrollment_id
            )
            return self._view(uow, enrollment)

        return self._write(create)

    def start_enrollment(
        self,
        account_id: int,
        *,
        sequence_id: int,
        resource_type: ResourceType | str,
        resource_id: int,
        actor_id: int,
        enrollment_id: int | None = None,
    ) -> Enrollment:
        """`enroll`, returning the new enrollment itself rather than its view (its
        sequence read again and whether it is overdue, ~3 us): for a caller that needs
        no more, as the simulator, which enrolls every arrival (P4)."""
        # ResourceType(member) is the member, through a Python-level call (~1 us)
        kind = resource_type if type(resource_type) is ResourceType else ResourceType(
            resource_type)
        return self._start_enrollment(
            account_id, sequence_id, kind, resource_id, actor_id, enrollment_id)

    def _start_enrollment(
        self,
        account_id: int,
        sequence_id: int,
        kind: ResourceType,
        resource_id: int,
        actor_id: int,
        enrollment_id: int | None = None,
    ) -> Enrollment:
        """`start_enrollment` of a ResourceType, by position: the simulator's call for
        every arrival (keyword arguments cost a name match each, P4)."""
        return self._write(self._create_enrollment, account_id, sequence_id, kind,
                           resource_id, actor_id, enrollment_id)

    def _create_enrollment(
        self,
        uow: UnitOfWork,
        account_id: int,
        sequence_id: int,
        kind: ResourceType,
        resource_id: int,
        actor_id: int,
        enrollment_id: int | None,
    ) -> Enrollment:
        return enrollments.create_enrollment(
            uow, self.clock.now(), catalog.reach_account(uow, account_id), sequence_id, kind,
            resource_id, actor_id, enrollment_id,
        )

    def get_enrollment(self, account_id: int, enrollment_id: int) -> EnrollmentView:
        with self._reading() as uow:
            account = catalog.reach_account(uow, account_id)
            return self._view(uow, enrollments.get_enrollment(uow, account, enrollment_id))

    def list_enrollments(
        self, account_id: int, where: EnrollmentFilter = EnrollmentFilter(), page: Page = Page()
    ) -> list[EnrollmentView]:
        with self._reading() as uow:
            account = catalog.reach_account(uow, account_id)
            found = enrollments.list_enrollments(uow, account, where, page)
            return self._views(uow, found)

    def update_enrollment_state(
        self, account_id: int, enrollment_id: int, state: EnrollmentState | str, *, actor_id: int
    ) -> EnrollmentView:
        with self._transaction() as uow:
            enrollment = enrollments.update_state(
                uow,
                self.clock.now(),
                catalog.reach_account(uow, account_id),
                enrollment_id,
                EnrollmentState(state),
                actor_id,
            )
            return self._view(uow, enrollment)

    def finish_ongoing_for_resource(
        self,
        account_id: int,
        *,
        resource_type: ResourceType | str,
        resource_id: int,
        sequence_ids: Seq[int] | None = None,
        actor_id: int,
    ) -> list[EnrollmentView]:
        with self._transaction() as uow:
            finished = enrollments.finish_ongoing_for_resource(
                uow,
                self.clock.now(),
                catalog.reach_account(uow, account_id),
                resource_type=ResourceType(resource_type),
                resource_id=resource_id,
                sequence_ids=sequence_ids,
                actor_id=actor_id,
            )
            return self._views(uow, finished)

    def handle(self, account_id: int, event: Event) -> list[EnrollmentView]:
        """Apply an outside event (reply, resource deleted, task done or deleted, Reach
        lost); returns the enrollments it finished."""
        with self._transaction() as uow:
            account = uow.get_account(account_id)
            if account is None:
                raise NotFound("account", account_id)
            return self._views(uow, handle_event(uow, self.clock.now(), account, event))

    # -- tasks -------------------------------------------------------------

    def get_task(self, account_id: int, task_id: int) -> Task:
        with self._reading() as uow:
            return tasks.get_task(uow, catalog.reach_account(uow, account_id), task_id)

    def list_tasks(
        self, account_id: int, where: TaskFilter = TaskFilter(), page: Page = Page()
    ) -> list[Task]:
        with self._reading() as uow:
            return tasks.list_tasks(uow, catalog.reach_account(uow, account_id), where, page)

    def update_task(self, account_id: int, task_id: int, **fields: Any) -> Task:
        with self._transaction() as uow:
            return tasks.update_task(
                uow, self.clock.now(), catalog.reach_account(uow, account_id), task_id, **fields
            )

    def delete_task(self, account_id: int, task_id: int) -> None:
        with self._transaction() as uow:
            tasks.delete_task(
                uow, self.clock.now(), catalog.reach_account(uow, account_id), task_id
            )

    # -- the outbox ----------------------------------------------------------

    def outbox(self, account_id: int, page: Page = Page(size=100)) -> list[OutboxMessage]:
        with self._reading() as uow:
            return uow.list_outbox(account_id, page)

    def set_failure_rule(self, rule: FailureRule) -> None:
        with self._transaction() as uow:
            uow.set_failure_rule(rule)

    def clear_failure_rules(self, account_id: int) -> None:
        with self._transaction() as uow:
            uow.clear_failure_rules(account_id)

    # -- executing due work --------------------------------------------------

    def executor(self, worker: str = "local") -> execution.Executor:
        """The claim, send and record steps of due work, for a worker named `worker`."""
        return execution.Executor(self.store, self.delivery, self.policy, self.clock, worker,
                                  tasks=self.tasks, observer=self.observer)

    def run_due(self) -> int:
        """Execute what is due now, in this thread; returns how many enrollments it took."""
        executor = self._in_process_executor()
        if executor is not None:
            return in_process.run_due(executor)
        return self.executor().run_due()

    def _in_process_executor(self) -> execution.Executor | None:
        """The local executor when the in-process pass applies (`in_process.applies`),
        else None: judged and built once for the engine's current parts, and again
        whenever one of them is replaced (a simulation advances once per event)."""
        parts = (self.store, self.clock, self.delivery, self.tasks, self.policy, self.observer)
        known = self._in_process
        if known is None or known[0] != parts:
            applies = in_process.applies(self.store, self.clock, self.delivery, self.tasks)
            known = self._in_process = (parts, self.executor() if applies else None)
        return known[1]

    def advance(
        self,
        *,
        seconds: float = 0,
        to: datetime | None = None,
        horizon: Callable[[], datetime | None] | None = None,
    ) -> datetime:
        """Simulated clock only: move time forward, running every piece of due work in
        time order, each at its own due instant, up to the new instant; returns the
        instant reached.

        `horizon` (a simulator's): asked before each piece of due work and at the end,
        the instant of the caller's own next event, or None. Due work later than that,
        and the move to the new instant, are left for the next advance, and the clock
        stays where the last piece ran: the caller handles its event first (one its
        reactions to this advance's work may have made)."""
        # the in-process pass takes only a clock that can be set (`in_process.applies`):
        # only without it is the clock asked (not isinstance(clock, SettableClock): a
        # runtime Protocol check costs ~4 us, and a simulation advances once per event)
        executor = self._in_process_executor()
        if executor is None and not callable(getattr(self.clock, "set", None)):
            raise ClockNotSimulated("the clock is the system clock: time cannot be advanced")
        clock: SettableClock = self.clock  # type: ignore[assignment]  # cast() is a call
        start = clock.now()
        target = to if to is not None else start + timedelta(seconds=seconds)
        if target < start:
            raise ValidationFailed(
                [
                    ErrorDetail(
                        "incorrect_value",
                        f"time never moves back: it is already {start.isoformat()}",
                        "/data/to",
                    )
                ]
            )
        if executor is not None:
            reached = in_process.advance(executor, clock, target, horizon)
        else:
            reached = True
            while (due := self.next_due_at()) is not None and due <= target:
                if horizon is not None and (event := horizon()) is not None and due > event:
                    reached = False
                    break
                clock.set(max(due, clock.now()))
                self.run_due()
        if reached and horizon is not None and (event := horizon()) is not None:
            reached = event >= target  # else the caller's event comes first
        if reached:
            clock.set(target)
        return clock.now()

    def next_due_at(self) -> datetime | None:
        with self._reading() as uow:
            return uow.next_due_at()

    # -- views ---------------------------------------------------------------

    def _view(self, uow: UnitOfWork, enrollment: Enrollment) -> EnrollmentView:
        if enrollment.actions and enrollment.current_action.task_id is not None:
            return self._views(uow, [enrollment])[0]  # its task's owner may judge it
        # _views of one enrollment judged on its actor's calendar, without the page's
        # bookkeeping: every create and every simulated arrival makes one (P4)
        sequence = enrollments.sequence_of(uow, enrollment)
        actor = self._actor(uow, enrollment.actor_id)
        late = overdue_position(
            enrollment, actor.calendar, self.clock.now(), self.policy.email_grace
        )
        return EnrollmentView(enrollment, sequence, late)

    def _views(self, uow: UnitOfWork, found: list[Enrollment]) -> list[EnrollmentView]:
        """Each enrollment with its sequence and whether it is overdue; a page costs one
        read per distinct sequence and actor (none when the store caches them) and one
        for all the tasks its current steps made, not one per enrollment."""
        now, grace = self.clock.now(), self.policy.email_grace
        sequences: dict[int, Sequence] = {}
        calendars: dict[int, BusinessCalendar] = {}  # by actor, read once a call
        owners = self._task_owners(uow, found)
        views = []
        for enrollment in found:
            sequence = sequences.get(enrollment.sequence_id)
            if sequence is None:
                sequence = sequences[enrollment.sequence_id] = enrollments.sequence_of(
                    uow, enrollment
                )
            judge = enrollment.actor_id
            if enrollment.actions and (task_id := enrollment.current_action.task_id) is not None:
                judge = owners.get((enrollment.account_id, task_id), judge)
            calendar = calendars.get(judge)
            if calendar is None:
                calendar = calendars[judge] = self._actor(uow, judge).calendar
            late = overdue_position(enrollment, calendar, now, grace)
            views.append(EnrollmentView(enrollment, sequence, late))
        return views

    @staticmethod
    def _task_owners(uow: UnitOfWork, found: list[Enrollment]) -> dict[tuple[int, int], int]:
        """(account id, task id) -> owner of the tasks the enrollments' current steps
        made, read in one list per account (a deleted task is simply absent)."""
        wanted: dict[int, set[int]] = {}
        for enrollment in found:
            if enrollment.actions and (task_id := enrollment.current_action.task_id) is not None:
                wanted.setdefault(enrollment.account_id, set()).add(task_id)
        owners = {}
        for account_id, task_ids in wanted.items():
            ids = tuple(sorted(task_ids))
            for task in uow.list_tasks(account_id, TaskFilter(ids=ids), Page(1, len(ids))):
                owners[account_id, task.id] = task.owner_id
        return owners

    @staticmethod
    def _actor(uow: UnitOfWork, user_id: int) -> User:
        user = uow.get_user(user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user
