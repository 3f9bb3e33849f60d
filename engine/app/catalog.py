"""Accounts, users and sequences: what enrollments are made of."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from engine.app.ids import allocate_id
from engine.app.ports import Page, SequenceFilter, UnitOfWork
from engine.domain.account import Account, User
from engine.domain.enrollment import to_seconds
from engine.domain.sequence import (
    MAX_SEQUENCE_ID,
    STEP_ID_BASE,
    Sequence,
    Step,
    UnsubscribeSettings,
)
from engine.errors import ErrorDetail, NotFound, ReachRequired, ValidationFailed
from engine.timeline import BusinessCalendar


def create_account(
    uow: UnitOfWork,
    name: str,
    *,
    reach_enabled: bool = True,
    account_id: int | None = None,
    daily_email_quota: int | None = None,
) -> Account:
    account = Account(
        allocate_id(uow, "account", account_id), name, reach_enabled
    )
    if daily_email_quota is not None:
        account.daily_email_quota = daily_email_quota
    uow.save_account(account)
    return account


def reach_account(uow: UnitOfWork, account_id: int) -> Account:
    """The account, which must exist and have Reach to use sequences."""
    account = uow.get_account(account_id)
    if account is None:
        raise NotFound("account", account_id)
    if not account.reach_enabled:
        raise ReachRequired("this account has no Reach subscription: sequences are unavailable")
    return account


def create_user(uow: UnitOfWork, account: Account, user: User) -> User:
    """Add `user` (its id 0 means: allocate one) to `account`."""
    user.id = allocate_id(uow, "user", user.id)
    user.account_id = account.id
    _checked_calendar(user)
    uow.save_user(user)
    return user


def _checked_calendar(user: User) -> BusinessCalendar:
    try:
        return user.calendar
    except ValueError as error:
        raise ValidationFailed(
            [ErrorDetail("incorrect_value", str(error), "/data")], resource="user"
        ) from error


def get_sequence(uow: UnitOfWork, account: Account, sequence_id: int) -> Sequence:
    sequence = uow.get_sequence(account.id, sequence_id)
    if sequence is None:
        raise NotFound("sequence", sequence_id)
    return sequence


def create_sequence(
    uow: UnitOfWork,
    now: datetime,
    account: Account,
    *,
    name: str,
    steps: Iterable[Step],
    creator_id: int,
    unsubscribe_settings: UnsubscribeSettings | None = None,
    sequence_id: int | None = None,
    created_at: datetime | None = None,
) -> Sequence:
    recorded = to_seconds(now)
    errors: list[ErrorDetail] = []
    if created_at is not None and created_at.tzinfo is None:
        errors.append(ErrorDetail("incorrect_value", "created_at must be timezone-aware",
                                  "/data/created_at"))
    if sequence_id is not None and sequence_id > MAX_SEQUENCE_ID:
        errors.append(ErrorDetail("incorrect_value", f"a sequence id is at most {MAX_SEQUENCE_ID}"
                                  " (its steps' ids are derived from it)", "/data/id"))
    ordered = tuple(steps)
    _check_step_count(ordered, errors)
    if errors:
        raise ValidationFailed(errors, resource="sequence")
    sequence = Sequence(
        id=allocate_id(uow, "sequence", sequence_id),
        account_id=account.id,
        name=name,
        creator_id=creator_id,
        created_at=recorded if created_at is None else to_seconds(created_at.astimezone(UTC)),
        updated_at=recorded,
        steps=ordered,
        unsubscribe_settings=unsubscribe_settings or UnsubscribeSettings(),
    )
    uow.save_sequence(sequence)
    return sequence


def update_sequence(
    uow: UnitOfWork,
    now: datetime,
    account: Account,
    sequence_id: int,
    *,
    name: str | None = None,
    steps: Iterable[Step] | None = None,
    unsubscribe_settings: UnsubscribeSettings | None = None,
) -> Sequence:
    """Edit a sequence. Running enrollments keep the steps they copied."""
    sequence = get_sequence(uow, account, sequence_id)
    ordered = None if steps is None else tuple(steps)
    if ordered is not None:
        errors: list[ErrorDetail] = []
        _check_step_count(ordered, errors)
        if errors:
            raise ValidationFailed(errors, resource="sequence")
    if name is not None:
        sequence.name = name
    if ordered is not None:
        sequence.steps = ordered
    if unsubscribe_settings is not None:
        sequence.unsubscribe_settings = unsubscribe_settings
    sequence.updated_at = to_seconds(now)
    uow.save_sequence(sequence)
    return sequence


def _check_step_count(steps: tuple[Step, ...], errors: list[ErrorDetail]) -> None:
    if len(steps) >= STEP_ID_BASE:
        errors.append(ErrorDetail("incorrect_value", f"a sequence has fewer than {STEP_ID_BASE} "
                                  "steps", "/data/steps", f"got {len(steps)}"))


def list_sequences(
    uow: UnitOfWork, account: Account, where: SequenceFilter, page: Page
) -> list[Sequence]:
    return uow.list_sequences(account.id, where, page)


def update_calendar(uow: UnitOfWork, user: User, **changes: object) -> User:
    """Change a user's calendar and re-plan that actor's pending steps."""
    calendar = _checked_calendar(replace(user, **changes))  # type: ignore[arg-type]
    for key, value in changes.items():
        setattr(user, key, value)
    uow.save_user(user)
    for enrollment in uow.ongoing_enrollments(user.account_id, actor_id=user.id):
        enrollment.replan(calendar)
        uow.save_enrollment(enrollment)
    return user
