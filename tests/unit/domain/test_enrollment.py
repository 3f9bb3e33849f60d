"""The Enrollment aggregate on its own: bookkeeping the use-case tests do not pin down
(each test names the mutants it kills)."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from engine.domain.enrollment import KEY_ENDS, Enrollment, send_key, to_millis, to_seconds
from engine.domain.enums import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.lifecycles import ENROLLMENT
from engine.domain.sequence import STEP_ID_BASE, Step
from engine.errors import TransitionRefused
from engine.timeline import BusinessCalendar

A = ActionStatus
NOW = datetime(2020, 12, 15, 19, 58, 53, 526_400, tzinfo=UTC)
UTC_CALENDAR = BusinessCalendar()


def email(position: int, delay: int = 0) -> Step:
    return Step(position, delay, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 100 + position)


def task(position: int, delay: int = 0) -> Step:
    return Step(position, delay, DelayUnit.HOURS, ActionType.TASK, task_content="call")


def start(*steps: Step, now: datetime = NOW) -> Enrollment:
    return Enrollment.start(id=7, account_id=1, actor_id=2, sequence_id=3,
                            resource_type=ResourceType.LEAD, resource_id=4, steps=steps,
                            now=now, calendar=UTC_CALENDAR)


def test_recorded_instants_are_truncated() -> None:
    # kills `t.microsecond - t.microsecond % 1000` -> `+`
    assert to_millis(NOW) == NOW.replace(microsecond=526_000)
    assert to_seconds(NOW) == NOW.replace(microsecond=0)


@pytest.mark.parametrize("fold", [0, 1])
@pytest.mark.parametrize("zone", [UTC, ZoneInfo("America/New_York")])
def test_truncation_keeps_everything_but_the_microseconds(fold: int, zone: tzinfo) -> None:
    """The difference that truncates keeps the zone and the wall time; an instant with
    fold 1 (the second 01:30 of a fall-back) keeps its fold, through replace. The
    fields as replace gives them, and a whole instant is the same object."""
    t = datetime(2026, 11, 1, 1, 30, 15, 123_456, tzinfo=zone, fold=fold)
    for truncate, micros in ((to_seconds, 0), (to_millis, 123_000)):
        done = truncate(t)
        same = t.replace(microsecond=micros)
        assert (done, done.tzinfo, done.fold, done.utcoffset()) == (
            same, same.tzinfo, same.fold, same.utcoffset())
        assert done.replace(tzinfo=None) == same.replace(tzinfo=None)
        assert truncate(done) is done
    assert to_millis(to_seconds(t)) == to_seconds(t) != t


@pytest.mark.parametrize("micros", [1, 7, 999, 1000, 1001, 526_000, 526_400, 999_999])
@pytest.mark.parametrize("zone", [UTC, ZoneInfo("America/New_York")])
def test_truncation_takes_off_exactly_the_microseconds_it_must(micros: int, zone: tzinfo
                                                              ) -> None:
    """Every shape of the microseconds the tables take off: under a millisecond, whole
    milliseconds, both; the last microsecond of a second (kills a table or a divmod
    off by one)."""
    t = datetime(2026, 3, 8, 1, 59, 59, micros, tzinfo=zone)
    for truncate, kept in ((to_seconds, 0), (to_millis, micros - micros % 1000)):
        done, same = truncate(t), t.replace(microsecond=kept)
        assert (done, done.utcoffset(), done.replace(tzinfo=None)) == (
            same, same.utcoffset(), same.replace(tzinfo=None))


def test_an_enrollment_without_steps_is_done_when_it_starts() -> None:
    # kills the arguments of `finish(ALL_STEPS_COMPLETED, now)` in start()
    e = start()
    assert (e.state, e.finished_reason) == (EnrollmentState.FINISHED,
                                           FinishedReason.ALL_STEPS_COMPLETED)
    assert e.finished_at == e.updated_at == to_seconds(NOW) and e.due_at is None


def test_idempotency_key_of_another_position() -> None:
    e = start(email(0), email(1, 5))
    e.begin_current(NOW)
    e.complete_current(NOW, UTC_CALENDAR)
    assert e.idempotency_key() == "7:1:0"
    assert e.idempotency_key(0) == "7:0:0"


def test_send_keys_of_the_last_positions_and_beyond_and_after_resumes() -> None:
    # KEY_ENDS holds the end of every position's key before a resume, none beyond
    assert send_key(7, STEP_ID_BASE - 1, 0) == f"7:{STEP_ID_BASE - 1}:0"
    assert send_key(7, STEP_ID_BASE, 0) == f"7:{STEP_ID_BASE}:0"
    assert send_key(7, 0, 0) == "7:0:0" and send_key(7, 0, 2) == "7:0:2"
    assert KEY_ENDS[3] == ":3:0" and len(KEY_ENDS) == STEP_ID_BASE


def test_block_abandon_and_resume_bookkeeping() -> None:
    e = start(email(0), email(1, 5))
    e.begin_current(NOW)
    later = NOW + timedelta(minutes=3)
    e.block_current(FailureReason.AUTH, later)
    assert (e.state, e.updated_at, e.due_at) == (EnrollmentState.BLOCKED, to_seconds(later), None)
    for resume_number in (1, 2):  # kills `generation += 1` -> `generation = 1`
        resumed_at = later + timedelta(hours=resume_number)
        e.resume(resumed_at, UTC_CALENDAR)
        assert e.updated_at == to_seconds(resumed_at)
        assert e.idempotency_key() == f"7:0:{resume_number}"
        assert e.due_at == to_seconds(resumed_at)
        e.begin_current(resumed_at)
        e.block_current(FailureReason.AUTH, resumed_at)


def test_a_send_that_fails_after_the_finish_is_abandoned() -> None:
    e = start(email(0), email(1, 5))
    e.begin_current(NOW)
    e.finish(FinishedReason.MANUAL, NOW, actor_id=2)
    later = NOW + timedelta(minutes=1)
    e.block_current(FailureReason.AUTH, later)  # kills abandon_current(None)
    assert e.actions[0].status is A.CANCELLED
    assert e.actions[0].estimated_execute_at is None  # kills `= ""`
    assert e.updated_at == to_seconds(later)  # kills `updated_at = None`
    assert (e.state, e.finished_reason) == (EnrollmentState.FINISHED, FinishedReason.MANUAL)


def test_a_task_awaiting_its_user_is_not_due_work() -> None:
    # kills `ACTIVE and action and scheduled` -> `ACTIVE or ...` and `due_at = ""`
    e = start(task(0), email(1, 1))
    e.begin_current(NOW)
    e.move_current(NOW + timedelta(days=2), UTC_CALENDAR)
    assert e.due_at is None
    assert e.actions[1].estimated_execute_at == NOW + timedelta(days=2, hours=1)


@pytest.mark.parametrize("reason", [r for r in FinishedReason if r is not FinishedReason.MANUAL])
def test_only_a_manual_finish_keeps_the_actor(reason: FinishedReason) -> None:
    e = start(email(0))
    e.finish(reason, NOW, actor_id=2)
    assert e.finished_actor_id is None


def test_a_second_finish_is_refused_and_changes_nothing() -> None:
    e = start(email(0), email(1, 5))
    whole = NOW.replace(microsecond=0) + timedelta(hours=1)
    e.finish(FinishedReason.MANUAL, whole, actor_id=2)
    assert (e.finished_at, e.updated_at) == (whole, whole)  # a whole second, kept
    before = repr(e)
    with pytest.raises(TransitionRefused, match=r"^enrollment cannot .* from state 'finished'"):
        e.finish(FinishedReason.REPLIED_TO_EMAIL, NOW)
    assert repr(e) == before


def test_start_transitions_and_finish_record_a_precise_instant_to_the_second() -> None:
    e = start(email(0), email(1, 5))
    e.begin_current(NOW)
    assert e.updated_at == to_seconds(NOW) != NOW
    e.complete_current(NOW, UTC_CALENDAR)
    assert e.actions[0].executed_at == e.updated_at == to_seconds(NOW)
    e.finish(FinishedReason.MANUAL, NOW, actor_id=2)
    assert e.finished_at == e.updated_at == to_seconds(NOW)


def test_refusals_name_their_machine() -> None:
    with pytest.raises(TransitionRefused, match=r"^enrollment cannot resume from state 'finished'"):
        ENROLLMENT.fire(EnrollmentState.FINISHED, "resume")


@pytest.mark.parametrize(
    ("make", "name"), [(email, "automated_email action"), (task, "task action")]
)
def test_begin_and_complete_refuse_on_their_steps_own_lifecycle(
    make: Callable[..., Step], name: str
) -> None:
    # begin_current and complete_current read the lifecycle's table themselves (P4):
    # a transition it lacks is refused by that step's lifecycle, and nothing changes
    # (kills the email/task swap, and `is None` -> `is not None` on both lookups)
    e = start(make(0), make(1, 5))
    with pytest.raises(TransitionRefused, match=rf"^{name} cannot complete from state "
                                                r"'scheduled'"):
        e.complete_current(NOW, UTC_CALENDAR)
    assert e.actions[0].status is A.SCHEDULED and e.actions[0].executed_at is None
    e.begin_current(NOW)
    assert e.actions[0].status is A.IN_PROGRESS
    with pytest.raises(TransitionRefused, match=rf"^{name} cannot start from state "
                                                r"'in_progress'"):
        e.begin_current(NOW)
    assert e.actions[0].status is A.IN_PROGRESS
    e.complete_current(NOW, UTC_CALENDAR)
    assert e.actions[0].status is A.COMPLETED and e.current_step_position == 1


def test_finish_cancels_what_each_steps_lifecycle_may_cancel() -> None:
    # an email in progress keeps its send's outcome; a task in progress is cancelled;
    # completed actions stay completed (kills the email/task swap in finish's loop and
    # `cancelled is not None` -> `is None`)
    for first, in_progress_after in ((email, A.IN_PROGRESS), (task, A.CANCELLED)):
        e = start(email(0), first(1), email(2, 5))
        e.begin_current(NOW)
        e.complete_current(NOW, UTC_CALENDAR)
        e.begin_current(NOW)
        e.finish(FinishedReason.MANUAL, NOW, actor_id=9)
        assert [a.status for a in e.actions] == [A.COMPLETED, in_progress_after, A.CANCELLED]
        assert e.actions[2].estimated_execute_at is None
        assert e.actions[0].executed_at == to_seconds(NOW)


def test_a_step_begun_again_after_a_resume_starts_its_attempts_afresh_on_a_whole_second() -> None:
    """A blocked email's attempts are kept until it is resumed and begun again, which
    starts them at 0; every recorded instant is whole seconds. Kills begin_current's
    `action.attempts = None` and `= 1`, and its `updated_at` left with microseconds
    (`and False`) or rounded to one (`microsecond=1`)."""
    enrollment = start(email(0), email(1, delay=1))
    action = enrollment.begin_current(NOW)
    assert enrollment.updated_at == NOW.replace(microsecond=0)
    action.attempts = 3  # three transient failures, then a permanent one
    enrollment.block_current(FailureReason.AUTH, NOW)
    enrollment.resume(NOW, UTC_CALENDAR)
    later = NOW + timedelta(minutes=1)
    assert enrollment.begin_current(later).attempts == 0
    assert enrollment.updated_at == later.replace(microsecond=0)
