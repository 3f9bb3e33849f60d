"""An enrollment: one resource going through a sequence's copied steps.

All methods are pure state changes that take `now` (and the actor's calendar
where planning is involved); they fire the lifecycles in
`engine.domain.lifecycles`, so a refused transition raises before anything
changes. Recorded instants are truncated to whole seconds; a new enrollment's
step 0 is planned from the precise instant, to the millisecond (semantics.md 7).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.domain.enums import (
    ActionStatus,
    ActionType,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.lifecycles import EMAIL_ACTION, ENROLLMENT, TASK_ACTION, Lifecycle
from engine.domain.sequence import STEP_ID_BASE, Step
from engine.domain.step_action import StepAction as StepAction  # re-exported: it lived here
from engine.timeline import BusinessCalendar, plan

S = ActionStatus
_AUTOMATED_EMAIL = ActionType.AUTOMATED_EMAIL
_FINISHED, _ACTIVE = EnrollmentState.FINISHED, EnrollmentState.ACTIVE
# enum members read through their class cost ~65 ns each (EnumType's lookup): the
# hot methods read these globals instead (P4)
_SCHEDULED_ACTION = ActionStatus.SCHEDULED
_COMPLETED_ACTION, _IN_PROGRESS = ActionStatus.COMPLETED, ActionStatus.IN_PROGRESS
_MANUAL = FinishedReason.MANUAL
_PLANNED = StepAction.planned  # bound once: a class attribute's read binds it anew (P4)


# Both give `t` itself when it is already whole: an enrollment's instants then share
# one datetime with the clock's `now` instead of holding copies (48 bytes each, P1).
def to_seconds(t: datetime) -> datetime:
    return _less(t, t.microsecond)


def to_millis(t: datetime) -> datetime:
    return _less(t, t.microsecond % 1000)


# The whole milliseconds and the microseconds below them, each taken off by a table
# lookup: `timedelta(microseconds=1) * micros` cost ~0.2 us a truncation more (P4: twice
# per new enrollment, once per finished one).
_MILLIS = tuple(timedelta(milliseconds=i) for i in range(1000))
_MICROS = tuple(timedelta(microseconds=i) for i in range(1000))


def _less(t: datetime, micros: int) -> datetime:
    """`t` less `micros` (0 to 999,999) of its own microseconds (`t` itself when 0). A
    difference rather than `t.replace(microsecond=...)`, whose keyword parsing costs
    ~0.65 us against ~0.1 (P4). Within one second the difference keeps the zone and
    the wall time, but not `fold`: an instant with fold 1 takes `replace`."""
    if not micros:
        return t
    if t.fold:
        return t.replace(microsecond=t.microsecond - micros)
    if micros < 1000:
        return t - _MICROS[micros]
    millis, micros = divmod(micros, 1000)
    return t - _MILLIS[millis] - _MICROS[micros] if micros else t - _MILLIS[millis]


# ":{position}:0" by position: how the idempotency key of a step never resumed ends,
# formatted once (formatting those two small ints costs ~1,100 instructions a send, P4)
KEY_ENDS = tuple(f":{position}:0" for position in range(STEP_ID_BASE))


def send_key(enrollment_id: int, position: int, generation: int) -> str:
    """The idempotency key of the send of step `position` after `generation` resumes."""
    if generation or position >= len(KEY_ENDS):
        return f"{enrollment_id}:{position}:{generation}"
    return f"{enrollment_id}{KEY_ENDS[position]}"


# the statuses some action lifecycle cancels from, read from the tables: `finish` asks
# the lifecycle only about these (a finished enrollment's actions are mostly completed)
_CANCELLABLE = frozenset(
    source
    for lifecycle in (EMAIL_ACTION, TASK_ACTION)
    for source, trigger in lifecycle.lookup
    if trigger == "cancel"
)

FINISH_TRIGGERS: dict[FinishedReason, str] = {
    FinishedReason.MANUAL: "finish_manually",
    FinishedReason.ALL_STEPS_COMPLETED: "complete",
    FinishedReason.REPLIED_TO_EMAIL: "reply",
    FinishedReason.RESOURCE_DELETED: "delete_resource",
    FinishedReason.SUBSCRIPTION_CANCELLED: "cancel_subscription",
    FinishedReason.TASK_DELETED: "delete_task",
}


@dataclass(slots=True)
class Enrollment:
    id: int
    account_id: int
    actor_id: int
    sequence_id: int
    resource_type: ResourceType
    resource_id: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime  # the precise instant step 0 is planned from
    steps: tuple[Step, ...]
    actions: list[StepAction]
    state: EnrollmentState = EnrollmentState.ACTIVE
    current_step_position: int = 0
    finished_at: datetime | None = None
    finished_reason: FinishedReason | None = None
    finished_actor_id: int | None = None
    due_at: datetime | None = None  # when the scheduler must next act on this enrollment

    @classmethod
    def start(
        cls,
        id: int,
        account_id: int,
        actor_id: int,
        sequence_id: int,
        resource_type: ResourceType,
        resource_id: int,
        steps: tuple[Step, ...],
        now: datetime,
        calendar: BusinessCalendar,
    ) -> "Enrollment":
        started = anchor = to_millis(now)
        recorded = to_seconds(started)  # as from `now`, with one difference less
        # What `replan` does on a fresh enrollment, in one pass: each step planned from
        # the one before it (every action is scheduled, none resumed). Appended through
        # the bound method (a generator costs a resume per step; a list filled in place
        # by position, enumerate's tuples and the cast, ~0.3 us more an enrollment: P4).
        planned = _PLANNED
        actions: list[StepAction] = []
        add = actions.append
        for step in steps:
            anchor = plan(
                anchor, step.delay_from_previous_step, step.delay_from_previous_step_unit,
                calendar,
            )
            add(planned(anchor))
        # the fields in order, by position: keywords cost a name match each (P4)
        enrollment = cls(
            id, account_id, actor_id, sequence_id, resource_type, resource_id,
            recorded, recorded, started, steps, actions,
        )
        if actions:
            enrollment.due_at = actions[0].estimated_execute_at
        if not steps:  # nothing to do: done as soon as started
            enrollment.finish(FinishedReason.ALL_STEPS_COMPLETED, now)
        return enrollment

    # -- reading ---------------------------------------------------------

    @property
    def is_ongoing(self) -> bool:
        return self.state is not _FINISHED

    @property
    def current_step(self) -> Step:
        return self.steps[self.current_step_position]

    @property
    def current_action(self) -> StepAction:
        return self.actions[self.current_step_position]

    def lifecycle(self, position: int) -> Lifecycle[ActionStatus]:
        # Step.is_email, inlined: a property call costs as much as the rest (P4)
        if self.steps[position].action_type is _AUTOMATED_EMAIL:
            return EMAIL_ACTION
        return TASK_ACTION

    def idempotency_key(self, position: int | None = None) -> str:
        """Stable across retries and restarts of one logical send; new on every resume."""
        pos = self.current_step_position if position is None else position
        return send_key(self.id, pos, self.actions[pos].generation)

    # -- planning --------------------------------------------------------

    def replan(
        self, calendar: BusinessCalendar, start: int | None = None, *, settled: bool = False
    ) -> None:
        """Re-plan every scheduled step from `start` (default: the current one) on.

        `settled`: the steps after `start` were last planned on this same calendar
        (every change of an actor's calendar re-plans all of its ongoing enrollments).
        Then a step whose plan comes out unchanged ends the re-planning: each later step
        is planned from the one before it, so its inputs and plan are unchanged too."""
        first = self.current_step_position if start is None else start
        if first >= len(self.steps):
            return
        anchor = self._anchor(first)
        for position in range(first, len(self.steps)):
            step, action = self.steps[position], self.actions[position]
            if action.status is _SCHEDULED_ACTION:
                before = action.estimated_execute_at
                if action.resumed_at is not None:
                    action.estimated_execute_at = plan(
                        action.resumed_at, 0, step.delay_from_previous_step_unit, calendar
                    )
                else:
                    action.estimated_execute_at = plan(
                        anchor,
                        step.delay_from_previous_step,
                        step.delay_from_previous_step_unit,
                        calendar,
                    )
                if settled and action.estimated_execute_at == before:
                    break
            anchor = self._anchor(position + 1)
        self._refresh_due()

    def _anchor(self, position: int) -> datetime:
        """What step `position` is planned from: the previous step's execution or plan."""
        if position == 0:
            return self.started_at
        previous = self.actions[position - 1]
        if previous.status is _COMPLETED_ACTION and previous.executed_at is not None:
            return previous.executed_at
        if previous.estimated_execute_at is not None:
            return previous.estimated_execute_at
        return self._anchor(position - 1)

    def _refresh_due(self) -> None:
        action = self.actions[self.current_step_position] if self.actions else None
        if self.state is _ACTIVE and action and action.status is _SCHEDULED_ACTION:
            self.due_at = action.estimated_execute_at
        else:
            self.due_at = None

    # -- the current step's action ---------------------------------------

    def begin_current(self, now: datetime) -> StepAction:
        """scheduled -> in_progress: an email send or a task creation starts."""
        position = self.current_step_position
        action = self.actions[position]
        # self.lifecycle(position).fire(...), inlined (two calls a step, P4)
        lifecycle = EMAIL_ACTION if self.steps[position].action_type is _AUTOMATED_EMAIL \
            else TASK_ACTION
        started = lifecycle.lookup.get((action.status, "start"))
        if started is None:
            lifecycle.refuse(action.status, "start")
        action.status = started
        # read first (the write is a Python-level setter), from the record of the rare
        # fields itself: the property costs twice as much (-0.5% instructions, P4)
        if action._rare.attempts:
            action.attempts = 0
        # to_seconds(now), inlined: no call for a whole second, and `_less` rather than
        # replace(), whose keyword parsing costs (-1.1% instructions with the same
        # change in complete_current, P4)
        self.updated_at = _less(now, micros) if (micros := now.microsecond) else now
        self.due_at = None
        return action

    def complete_current(self, now: datetime, calendar: BusinessCalendar) -> None:
        """in_progress -> completed; moves on, or finishes after the last step."""
        position = self.current_step_position
        action = self.actions[position]
        lifecycle = EMAIL_ACTION if self.steps[position].action_type is _AUTOMATED_EMAIL \
            else TASK_ACTION  # self.lifecycle(position).fire(...), inlined (as above)
        completed = lifecycle.lookup.get((action.status, "complete"))
        if completed is None:
            lifecycle.refuse(action.status, "complete")
        action.status = completed
        executed = _less(now, micros) if (micros := now.microsecond) else now  # as above
        planned, action.executed_at = action.estimated_execute_at, executed
        action.estimated_execute_at = None
        self.updated_at = action.executed_at
        if self.state is _FINISHED:  # a send confirmed after the enrollment finished
            self.due_at = None
        elif position + 1 < len(self.steps):
            self.current_step_position = position + 1
            if planned == executed:
                # on time: the next step was planned from this very instant (see replan);
                # what _refresh_due does, inlined
                following = self.actions[position + 1]
                self.due_at = (
                    following.estimated_execute_at
                    if self.state is _ACTIVE and following.status is _SCHEDULED_ACTION
                    else None
                )
            else:
                self.replan(calendar, settled=True)  # the later steps were planned on it
        else:
            self.finish(FinishedReason.ALL_STEPS_COMPLETED, now)

    def move_current(self, estimated: datetime, calendar: BusinessCalendar) -> None:
        """The in-progress task step's task is now due at `estimated`: the step follows
        it (it never disagrees with its task) and the steps after it are re-planned."""
        self.current_action.estimated_execute_at = estimated
        self.replan(calendar, self.current_step_position + 1)

    def block_current(self, reason: FailureReason, now: datetime) -> None:
        """in_progress -> blocked with a failure reason; the enrollment blocks with it.

        If the enrollment finished while the send was under way, the send is abandoned."""
        if not self.is_ongoing:
            self.abandon_current(now)
            return
        action = self.current_action
        new_status = EMAIL_ACTION.fire(action.status, "fail")
        self.state = ENROLLMENT.fire(self.state, "block")
        action.status, action.failure_reason = new_status, reason
        self.updated_at = to_seconds(now)
        self.due_at = None

    def abandon_current(self, now: datetime) -> None:
        """in_progress -> cancelled: a send given up before it happened (enrollment finished)."""
        action = self.current_action
        action.status = EMAIL_ACTION.fire(action.status, "abandon")
        action.estimated_execute_at = None
        self.updated_at = to_seconds(now)
        self.due_at = None

    # -- the enrollment --------------------------------------------------

    def resume(self, now: datetime, calendar: BusinessCalendar) -> None:
        """blocked -> active; the blocked action is re-planned from now with a new send key."""
        new_state = ENROLLMENT.fire(self.state, "resume")
        action = self.current_action
        action.status = EMAIL_ACTION.fire(action.status, "resume")
        self.state = new_state
        action.failure_reason = None
        action.generation += 1
        action.resumed_at = to_seconds(now)
        self.updated_at = action.resumed_at
        self.replan(calendar)

    def finish(self, reason: FinishedReason, now: datetime, actor_id: int | None = None) -> None:
        """Finish for `reason`: pending actions are cancelled; a send under way keeps
        its outcome."""
        # ENROLLMENT.fire(...), inlined (a call per enrollment, P4)
        trigger = FINISH_TRIGGERS[reason]
        finished = ENROLLMENT.lookup.get((self.state, trigger))
        if finished is None:
            ENROLLMENT.refuse(self.state, trigger)
        self.state = finished
        steps, actions = self.steps, self.actions
        for position, action in enumerate(actions):
            if action.status not in _CANCELLABLE:  # completed or cancelled: done with
                continue
            # lifecycle.can and fire, as one read of its table (P4)
            lookup = (EMAIL_ACTION if steps[position].action_type is _AUTOMATED_EMAIL
                      else TASK_ACTION).lookup
            cancelled = lookup.get((action.status, "cancel"))
            if cancelled is not None:
                action.status = cancelled
                action.estimated_execute_at = None
                action.failure_reason = None  # cancelled, not failed
        self.finished_at = self.updated_at = (
            _less(now, micros) if (micros := now.microsecond) else now  # to_seconds
        )
        self.finished_reason = reason
        self.finished_actor_id = actor_id if reason is _MANUAL else None
        if not actions or actions[self.current_step_position].status is not _IN_PROGRESS:
            self.due_at = None  # else the send's lease stays, so a dead worker's send resolves
