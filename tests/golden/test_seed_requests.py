"""Every request body of the seed page, read by engine.wire's parsers."""

from pathlib import Path

from engine import EnrollmentState, ResourceType
from engine.wire import (
    CreateEnrollment,
    FinishOngoing,
    parse_body,
    parse_create_enrollment,
    parse_finish_ongoing,
    parse_update_enrollment,
)

SEED = Path(__file__).parent / "seed"


def raw(name: str) -> bytes:
    return (SEED / f"{name}.json").read_bytes()


def test_create_request() -> None:
    """The seed sends a sibling `meta` object: accepted and ignored."""
    assert parse_create_enrollment(parse_body(raw("create-request"))) == CreateEnrollment(
        sequence_id=554, resource_type=ResourceType.LEAD, resource_id=12866615, actor_id=None
    )


def test_update_request() -> None:
    assert parse_update_enrollment(parse_body(raw("update-request"))) is EnrollmentState.FINISHED


def test_finish_ongoing_all_request() -> None:
    assert parse_finish_ongoing(parse_body(raw("finish-ongoing-all-request"))) == FinishOngoing(
        ResourceType.LEAD, 5, None
    )


def test_finish_ongoing_one_sequence_request() -> None:
    parsed = parse_finish_ongoing(parse_body(raw("finish-ongoing-one-sequence-request")))
    assert parsed == FinishOngoing(ResourceType.LEAD, 5, (2222,))
