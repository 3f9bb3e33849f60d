"""Query parameters: pagination and list filters; bad ones are 400 invalid_param,
all reported together."""

import pytest

from engine import (
    EnrollmentFilter,
    EnrollmentState,
    Page,
    ResourceType,
    SequenceFilter,
    Sort,
    TaskFilter,
)
from engine.errors import InvalidParam
from engine.wire import (
    MAX_IDS,
    InvalidParams,
    parse_enrollment_filter,
    parse_enrollment_query,
    parse_page,
    parse_sequence_query,
    parse_task_filter,
    parse_task_query,
)


def bad_params(query: dict[str, str], parse: object = parse_enrollment_query) -> list[str | None]:
    with pytest.raises(InvalidParams) as info:
        parse(query)  # type: ignore[operator]
    error = info.value
    assert isinstance(error, InvalidParam)
    assert (error.status, error.code) == (400, "invalid_param")
    assert {detail.code for detail in error.errors} == {"invalid_param"}
    return [detail.field for detail in error.errors]


@pytest.mark.parametrize(
    ("query", "page"),
    [
        ({}, Page(1, 25)),
        ({"page": "3"}, Page(3, 25)),
        ({"per_page": "100"}, Page(1, 100)),
        ({"page": "2", "per_page": "1"}, Page(2, 1)),
        ({"page": "", "per_page": ""}, Page(1, 25)),  # empty = absent
        ({"page": "007"}, Page(7, 25)),
        ({"sort_by": "id"}, Page(1, 25)),  # unknown parameters are ignored, as Sell does
    ],
)
def test_page(query: dict[str, str], page: Page) -> None:
    assert parse_page(query) == page


@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"}, {"page": "-1"}, {"page": "+1"}, {"page": "1.0"}, {"page": "one"},
        {"page": " 1"}, {"page": "1e3"}, {"page": "٣"}, {"page": "99999999999999999999999"},
        {"page": str(2**31)}, {"per_page": "0"}, {"per_page": "101"}, {"per_page": "25x"},
    ],
)
def test_bad_page(query: dict[str, str]) -> None:
    assert bad_params(query, parse_page) == list(query)


def test_every_bad_parameter_is_reported_together() -> None:
    query = {"page": "0", "per_page": "500", "ids": "1,x", "resource_ids": "0",
             "resource_type": "deal", "sequence_id": "-3", "state": "paused"}
    fields = bad_params(query)
    assert sorted(fields) == sorted(query)  # type: ignore[type-var]
    with pytest.raises(InvalidParams) as info:
        parse_enrollment_query(query)
    assert "page must be an integer from 1 to" in info.value.message
    assert "state must be one of: active, blocked, finished" in info.value.message


def test_enrollment_filter() -> None:
    query = {"ids": "3, 1,3", "resource_ids": "12866615", "resource_type": "lead",
             "sequence_id": "554", "state": "blocked", "page": "2"}
    assert parse_enrollment_filter(query) == EnrollmentFilter(
        ids=(3, 1), resource_ids=(12866615,), resource_type=ResourceType.LEAD,
        sequence_id=554, state=EnrollmentState.BLOCKED)
    assert parse_enrollment_query(query) == (parse_enrollment_filter(query), Page(2, 25))
    assert parse_enrollment_filter({}) == EnrollmentFilter()
    assert parse_enrollment_filter({"ids": "", "state": ""}) == EnrollmentFilter()


@pytest.mark.parametrize(
    "ids", ["1,", ",1", "1,,2", "a", "1;2", "0", "-1", "1.5", str(2**63), "1 2"])
def test_bad_ids(ids: str) -> None:
    assert bad_params({"ids": ids}) == ["ids"]
    assert bad_params({"resource_ids": ids}) == ["resource_ids"]


def test_too_many_ids() -> None:
    assert parse_enrollment_filter({"ids": ",".join(["1"] * MAX_IDS)}).ids == (1,)
    # The limit counts distinct ids (issue 7, item 13): repeats ask for nothing more.
    assert parse_enrollment_filter({"ids": ",".join(["1"] * (MAX_IDS + 1))}).ids == (1,)
    many = [str(i) for i in range(1, MAX_IDS + 1)]
    assert len(parse_enrollment_filter({"ids": ",".join([*many, *many])}).ids or ()) == MAX_IDS
    assert bad_params({"ids": ",".join([*many, str(MAX_IDS + 1)])}) == ["ids"]


def test_task_filter() -> None:
    query = {"ids": "1,2", "resource_type": "contact", "resource_id": "9", "completed": "true"}
    assert parse_task_filter(query) == TaskFilter(
        ids=(1, 2), resource_type=ResourceType.CONTACT, resource_id=9, completed=True)
    assert parse_task_filter({"completed": "false"}).completed is False
    assert parse_task_filter({"completed": "FALSE"}).completed is False
    assert parse_task_query({"per_page": "10"}) == (TaskFilter(), Page(1, 10))


def test_bad_task_filter() -> None:
    query = {"completed": "yes", "resource_id": "1,2", "resource_type": "Lead", "page": "x"}
    assert bad_params(query, parse_task_query) == [
        "completed", "resource_type", "resource_id", "page"]


def test_invalid_params_needs_an_error() -> None:
    with pytest.raises(ValueError):
        InvalidParams([])


@pytest.mark.parametrize(
    ("text", "sort"),
    [
        ("", Sort()),
        ("id", Sort()),
        ("id:asc", Sort()),
        ("id:desc", Sort("id", descending=True)),
        ("created_at", Sort("created_at")),
        ("created_at:desc", Sort("created_at", descending=True)),
        ("updated_at:asc", Sort("updated_at")),
    ],
)
def test_sort_by(text: str, sort: Sort) -> None:
    assert parse_enrollment_filter({"sort_by": text}).sort == sort
    assert parse_task_filter({"sort_by": text}).sort == sort
    assert parse_sequence_query({"sort_by": text})[0].sort == sort


@pytest.mark.parametrize(
    "text", ["name", "steps_total", "id:", "id:up", "id:DESC", "ID", ":asc", "created_at:desc:x",
             " id"],
)
def test_bad_sort_by(text: str) -> None:
    assert bad_params({"sort_by": text}) == ["sort_by"]
    assert bad_params({"sort_by": text}, parse_task_query) == ["sort_by"]


def test_sequence_query() -> None:
    where, page = parse_sequence_query({"ids": "3,1,3", "name": "Welcome sequence",
                                        "sort_by": "name:desc", "per_page": "100"})
    assert where == SequenceFilter(ids=(3, 1), name="Welcome sequence",
                                   sort=Sort("name", descending=True))
    assert page == Page(1, 100)
    assert parse_sequence_query({"name": ""}) == (SequenceFilter(), Page())
    assert bad_params({"sort_by": "state", "ids": "x", "page": "0"}, parse_sequence_query) == [
        "ids", "sort_by", "page"]
