"""Query parameters of list requests (Sell v2 pagination and filters).

Every bad parameter is reported at once in one `InvalidParams` (400
`invalid_param`, one detail per parameter, `field` = the parameter's name).
An empty parameter (`?page=`) counts as absent; unknown parameters are ignored,
as Sell does.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.app.ports import (
    SEQUENCE_SORT_FIELDS,
    SORT_FIELDS,
    EnrollmentFilter,
    Page,
    SequenceFilter,
    Sort,
    TaskFilter,
)
from engine.errors import ErrorDetail, InvalidParam
from engine.wire.fields import MAX_ID, RESOURCE_TYPES, STATES, T, shown

__all__ = [
    "MAX_IDS",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "InvalidParams",
    "parse_enrollment_filter",
    "parse_enrollment_query",
    "parse_page",
    "parse_sequence_query",
    "parse_task_filter",
    "parse_task_query",
]

MAX_PER_PAGE = 100
MAX_PAGE = 2**31 - 1  # keeps the offset (page - 1) * per_page inside a 64-bit integer
MAX_IDS = 1000  # ids per list parameter


class InvalidParams(InvalidParam):
    """400 `invalid_param` with one detail per bad query parameter."""

    def __init__(self, errors: list[ErrorDetail]) -> None:
        if not errors:
            raise ValueError("InvalidParams needs at least one error")
        super().__init__("; ".join(e.message for e in errors))
        self.errors = tuple(errors)


def parse_page(query: Mapping[str, str]) -> Page:
    """`page` (from 1, default 1) and `per_page` (1..100, default 25)."""
    errors: list[ErrorDetail] = []
    page = _page(query, errors)
    _raise_params(errors)
    return page


def parse_enrollment_filter(query: Mapping[str, str]) -> EnrollmentFilter:
    errors: list[ErrorDetail] = []
    where = _enrollment_filter(query, errors)
    _raise_params(errors)
    return where


def parse_task_filter(query: Mapping[str, str]) -> TaskFilter:
    errors: list[ErrorDetail] = []
    where = _task_filter(query, errors)
    _raise_params(errors)
    return where


def parse_enrollment_query(query: Mapping[str, str]) -> tuple[EnrollmentFilter, Page]:
    """GET /v2/sequence_enrollments: the filter and the page, every bad parameter at once."""
    errors: list[ErrorDetail] = []
    where, page = _enrollment_filter(query, errors), _page(query, errors)
    _raise_params(errors)
    return where, page


def parse_task_query(query: Mapping[str, str]) -> tuple[TaskFilter, Page]:
    """GET /v2/tasks: the filter and the page, every bad parameter at once."""
    errors: list[ErrorDetail] = []
    where, page = _task_filter(query, errors), _page(query, errors)
    _raise_params(errors)
    return where, page


def parse_sequence_query(query: Mapping[str, str]) -> tuple[SequenceFilter, Page]:
    """GET /v2/sequences: `ids`, `name` (exact), `sort_by` and the page."""
    errors: list[ErrorDetail] = []
    where = SequenceFilter(
        ids=_param_ids(query, "ids", errors),
        name=query.get("name") or None,
        sort=_param_sort(query, SEQUENCE_SORT_FIELDS, errors),
    )
    page = _page(query, errors)
    _raise_params(errors)
    return where, page


def _page(query: Mapping[str, str], errors: list[ErrorDetail]) -> Page:
    number = _param_int(query, "page", 1, MAX_PAGE, errors)
    size = _param_int(query, "per_page", 1, MAX_PER_PAGE, errors)
    return Page(number or 1, size or 25)


def _enrollment_filter(query: Mapping[str, str], errors: list[ErrorDetail]) -> EnrollmentFilter:
    return EnrollmentFilter(
        ids=_param_ids(query, "ids", errors),
        resource_ids=_param_ids(query, "resource_ids", errors),
        resource_type=_param_choice(query, "resource_type", RESOURCE_TYPES, errors),
        sequence_id=_param_int(query, "sequence_id", 1, MAX_ID, errors),
        state=_param_choice(query, "state", STATES, errors),
        sort=_param_sort(query, SORT_FIELDS, errors),
    )


def _task_filter(query: Mapping[str, str], errors: list[ErrorDetail]) -> TaskFilter:
    completed: bool | None = None
    text = query.get("completed")
    if text:
        completed = {"true": True, "false": False}.get(text.lower())
        if completed is None:
            errors.append(_bad_param("completed", "true or false", text))
    return TaskFilter(
        ids=_param_ids(query, "ids", errors),
        resource_type=_param_choice(query, "resource_type", RESOURCE_TYPES, errors),
        resource_id=_param_int(query, "resource_id", 1, MAX_ID, errors),
        completed=completed,
        sort=_param_sort(query, SORT_FIELDS, errors),
    )


def _raise_params(errors: list[ErrorDetail]) -> None:
    if errors:
        raise InvalidParams(errors)


def _bad_param(name: str, expected: str, text: str) -> ErrorDetail:
    return ErrorDetail("invalid_param", f"{name} must be {expected}", name, f"got {shown(text)}")


def _digits(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 19 else None


def _param_int(
    query: Mapping[str, str], name: str, low: int, high: int, errors: list[ErrorDetail]
) -> int | None:
    """An empty parameter counts as absent (clients often send `?page=`)."""
    text = query.get(name)
    if not text:
        return None
    number = _digits(text)
    if number is None or not low <= number <= high:
        errors.append(_bad_param(name, f"an integer from {low} to {high}", text))
        return None
    return number


def _param_ids(
    query: Mapping[str, str], name: str, errors: list[ErrorDetail]
) -> tuple[int, ...] | None:
    text = query.get(name)
    if not text:
        return None
    numbers = [_digits(part.strip()) for part in text.split(",")]
    if any(n is None or not 1 <= n <= MAX_ID for n in numbers):
        errors.append(_bad_param(name, "comma-separated positive integers", text))
        return None
    unique = tuple(dict.fromkeys(n for n in numbers if n is not None))
    if len(unique) > MAX_IDS:  # counted after de-duplication: repeats ask for nothing more
        errors.append(_bad_param(name, f"at most {MAX_IDS} distinct comma-separated ids", text))
        return None
    return unique


_DIRECTIONS = {"asc": False, "desc": True}
_SORTS = {
    fields: ", ".join(sorted(fields, key=lambda f: (f != "id", f)))
    for fields in (SORT_FIELDS, SEQUENCE_SORT_FIELDS)
}


def _param_sort(
    query: Mapping[str, str], fields: frozenset[str], errors: list[ErrorDetail]
) -> Sort:
    """Sell's `sort_by`: `field` or `field:asc|desc` (default `id:asc`)."""
    text = query.get("sort_by")
    if not text:
        return Sort()
    field, colon, direction = text.partition(":")
    descending = _DIRECTIONS.get(direction) if colon else False
    if field not in fields or descending is None:
        expected = f"one of {_SORTS[fields]}, optionally followed by :asc or :desc"
        errors.append(_bad_param("sort_by", expected, text))
        return Sort()
    return Sort(field, descending)


def _param_choice(
    query: Mapping[str, str], name: str, choices: dict[str, T], errors: list[ErrorDetail]
) -> T | None:
    text = query.get(name)
    if not text:
        return None
    found = choices.get(text)
    if found is None:
        errors.append(_bad_param(name, "one of: " + ", ".join(choices), text))
    return found

