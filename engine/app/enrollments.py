"""Use cases on enrollments: create, read, list, change state, finish ongoing.

Each function runs inside one unit of work that the caller opened; it checks
everything before it changes anything, so a refused command changes nothing.
"""

from collections.abc import Sequence as Seq
from datetime import datetime

from engine.app.ids import allocate_id
from engine.app.ports import EnrollmentFilter, Page, UnitOfWork
from engine.domain.account import Account
from engine.domain.enrollment import Enrollment
from engine.domain.enums import EnrollmentState, FinishedReason, ResourceType
from engine.domain.lifecycles import ENROLLMENT
from engine.domain.sequence import Sequence
from engine.errors import (
    AlreadyExists,
    ErrorDetail,
    NotFound,
    TransitionRefused,
    ValidationFailed,
)
from engine.timeline import BusinessCalendar

RESOURCE = "sequence_enrollment"

# What a caller may ask for with PUT; blocking happens only through a failed send.
REQUESTABLE = {EnrollmentState.ACTIVE: "resume", EnrollmentState.FINISHED: "finish_manually"}


def create_enrollment(
    uow: UnitOfWork,
    now: datetime,
    account: Account,
    sequence_id: int,
    resource_type: ResourceType,
    resource_id: int,
    actor_id: int,
    enrollment_id: int | None = None,
) -> Enrollment:
    """A new enrollment, saved. Called by position on the simulator's path: keyword
    arguments cost a name match each, here and below (~1% of P4's instructions)."""
    sequence = uow.get_sequence(account.id, sequence_id)
    actor = uow.get_user(actor_id)
    if sequence is None or actor is None or actor.account_id != account.id:
        errors = []  # made only for a refusal: every create of P4 passes here
        if sequence is None:
            errors.append(
                ErrorDetail(
                    "incorrect_value", f"sequence {sequence_id} does not exist",
                    "/data/sequence_id",
                )
            )
        if actor is None or actor.account_id != account.id:
            errors.append(
                ErrorDetail(
                    "incorrect_value",
                    f"user {actor_id} is not a user of this account",
                    "/data/actor_id",
                )
            )
        raise ValidationFailed(errors, resource=RESOURCE)
    if uow.ongoing_enrollments(
        account.id, resource=(resource_type, resource_id), sequence_ids=(sequence_id,)
    ):
        raise AlreadyExists(
            f"{resource_type} {resource_id} already has an ongoing enrollment "
            f"in sequence {sequence_id}",
            field="/data/resource_id",
            resource=RESOURCE,
        )
    enrollment = Enrollment.start(
        allocate_id(uow, "enrollment", enrollment_id), account.id, actor.id, sequence.id,
        resource_type, resource_id, sequence.steps, now, actor.calendar,
    )
    uow.save_enrollment(enrollment)
    return enrollment


def get_enrollment(uow: UnitOfWork, account: Account, enrollment_id: int) -> Enrollment:
    enrollment = uow.get_enrollment(account.id, enrollment_id)
    if enrollment is None:
        raise NotFound(RESOURCE, enrollment_id)
    return enrollment


def list_enrollments(
    uow: UnitOfWork, account: Account, where: EnrollmentFilter, page: Page
) -> list[Enrollment]:
    return uow.list_enrollments(account.id, where, page)


def update_state(
    uow: UnitOfWork,
    now: datetime,
    account: Account,
    enrollment_id: int,
    state: EnrollmentState,
    actor_id: int,
) -> Enrollment:
    """PUT state: `active` resumes a blocked enrollment, `finished` finishes an ongoing one.

    Asking for the current state is a no-op that succeeds (safe retries)."""
    enrollment = get_enrollment(uow, account, enrollment_id)
    if enrollment.state is state:
        return enrollment
    allowed = tuple(
        str(target)
        for target, trigger in REQUESTABLE.items()
        if ENROLLMENT.can(enrollment.state, trigger)
    )
    if str(state) not in allowed:
        raise TransitionRefused("enrollment", str(enrollment.state), f"become {state}", allowed)
    if state is EnrollmentState.FINISHED:
        enrollment.finish(FinishedReason.MANUAL, now, actor_id)
    else:
        enrollment.resume(now, actor_calendar(uow, enrollment))
    uow.save_enrollment(enrollment)
    return enrollment


def finish_ongoing_for_resource(
    uow: UnitOfWork,
    now: datetime,
    account: Account,
    *,
    resource_type: ResourceType,
    resource_id: int,
    sequence_ids: Seq[int] | None,
    actor_id: int,
    reason: FinishedReason = FinishedReason.MANUAL,
) -> list[Enrollment]:
    """Finish the resource's ongoing enrollments (all, or only those in `sequence_ids`)."""
    enrollments = uow.ongoing_enrollments(
        account.id,
        resource=(resource_type, resource_id),
        sequence_ids=sequence_ids or None,
    )
    for enrollment in enrollments:
        enrollment.finish(reason, now, actor_id)
        uow.save_enrollment(enrollment)
    return enrollments


def actor_calendar(uow: UnitOfWork, enrollment: Enrollment) -> BusinessCalendar:
    actor = uow.get_user(enrollment.actor_id)
    if actor is None:
        raise NotFound("user", enrollment.actor_id)
    return actor.calendar


def sequence_of(uow: UnitOfWork, enrollment: Enrollment) -> Sequence:
    sequence = uow.get_sequence(enrollment.account_id, enrollment.sequence_id)
    if sequence is None:
        raise NotFound("sequence", enrollment.sequence_id)
    return sequence
