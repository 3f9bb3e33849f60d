"""Sell's list filters over HTTP: `ids`, `sort_by` on every list, `name` on sequences;
paging links keep them; a bad one is a 400 that names it."""

from urllib.parse import parse_qs, urlsplit

import pytest
from http_world import EMAIL_STEPS, TASK_STEPS


def item_ids(result) -> list[int]:
    assert result.status_code == 200, result.text
    return [item["data"]["id"] for item in result.json["items"]]


@pytest.fixture
def catalog(api):
    """Four sequences created a day apart: Welcome, Nurture, Welcome again, Another."""
    ids = []
    for name in ("Welcome sequence", "Nurture", "Welcome sequence", "Another test sequence"):
        ids.append(api.sequence(EMAIL_STEPS, name=name))
        api.advance(86400)
    api.put(f"/v2/sequences/{ids[1]}", {"name": "Nurture 2"})  # updated last
    return ids


def test_sequences_by_exact_name(api, catalog):
    assert item_ids(api.get("/v2/sequences", params={"name": "Welcome sequence"})) == [
        catalog[0], catalog[2]]
    assert item_ids(api.get("/v2/sequences", params={"name": "Welcome"})) == []
    assert item_ids(api.get("/v2/sequences", params={"name": "welcome sequence"})) == []
    assert item_ids(api.get("/v2/sequences", params={"name": ""})) == catalog  # empty: absent


def test_sequences_by_ids(api, catalog):
    wanted = f"{catalog[3]},{catalog[0]},999"
    assert item_ids(api.get("/v2/sequences", params={"ids": wanted})) == [catalog[0], catalog[3]]


@pytest.mark.parametrize(
    ("sort_by", "order"),
    [
        ("id", [0, 1, 2, 3]),
        ("id:asc", [0, 1, 2, 3]),
        ("id:desc", [3, 2, 1, 0]),
        ("created_at:desc", [3, 2, 1, 0]),
        ("created_at", [0, 1, 2, 3]),
        ("updated_at:desc", [1, 3, 2, 0]),
        ("name", [3, 1, 0, 2]),
        ("name:desc", [2, 0, 1, 3]),
    ],
)
def test_sequences_sort_by(api, catalog, sort_by, order):
    result = api.get("/v2/sequences", params={"sort_by": sort_by})
    assert item_ids(result) == [catalog[i] for i in order]


def test_enrollments_and_tasks_sort_by_created_at_desc(api):
    first = api.sequence(TASK_STEPS)
    enrolled = []
    for lead in (5, 6, 7):
        enrolled.append(api.enroll(first, resource_id=lead)["id"])
        api.advance(3600)  # each task step starts, so each enrollment makes a task
    newest_first = api.get("/v2/sequence_enrollments", params={"sort_by": "created_at:desc"})
    assert item_ids(newest_first) == enrolled[::-1]
    tasks = item_ids(api.get("/v2/tasks"))
    assert len(tasks) == 3
    assert item_ids(api.get("/v2/tasks", params={"sort_by": "created_at:desc"})) == tasks[::-1]
    assert item_ids(api.get("/v2/tasks", params={"sort_by": "id:desc",
                                                 "ids": f"{tasks[0]},{tasks[2]}"})) == [
        tasks[2], tasks[0]]


def test_paging_links_keep_the_filters(api, catalog):
    first = api.get("/v2/sequences", params={"name": "Welcome sequence", "sort_by": "id:desc",
                                             "per_page": 1})
    assert item_ids(first) == [catalog[2]]
    links = first.json["meta"]["links"]
    following = urlsplit(links["next_page"])
    assert parse_qs(following.query) == {
        "name": ["Welcome sequence"], "sort_by": ["id:desc"], "per_page": ["1"], "page": ["2"]}
    second = api.get(following.path, query_string=following.query)
    assert item_ids(second) == [catalog[0]]
    assert "next_page" not in second.json["meta"]["links"]


@pytest.mark.parametrize(
    ("path", "sort_by"),
    [
        ("/v2/sequences", "steps_total"),
        ("/v2/sequences", "name:up"),
        ("/v2/sequences", "id:DESC"),
        ("/v2/sequence_enrollments", "name"),  # only sequences sort by name
        ("/v2/sequence_enrollments", "state:desc"),
        ("/v2/tasks", "due_date"),
        ("/v2/tasks", ":desc"),
    ],
)
def test_an_unknown_sort_is_a_400_naming_sort_by(api, path, sort_by):
    result = api.get(path, params={"sort_by": sort_by})
    assert result.status_code == 400, result.text
    error = result.json["errors"][0]["error"]
    assert (error["code"], error["field"]) == ("invalid_param", "sort_by")
    assert "created_at" in error["message"]


def test_bad_filters_are_reported_together(api):
    result = api.get("/v2/sequences", params={"sort_by": "x", "ids": "1,a", "page": "0"})
    assert result.status_code == 400
    assert {e["error"]["field"] for e in result.json["errors"]} == {"sort_by", "ids", "page"}
