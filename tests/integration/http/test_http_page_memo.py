"""A page of enrollments from its memo on SQLite (engine/adapters/http/page_memo.py):
the same bytes as the use case's, any write by another process or plain SQL seen on
the next GET, the overdue judgements turning with the clock, pages with task steps
answered but not kept."""

import sqlite3
from datetime import timedelta

import falcon.testing
from http_world import START, TASK_STEPS, Api
from test_http_fast_get import statements_during, through_falcon

from engine import SimulatedClock, build
from engine.adapters.http.fast_get import Kept, judged_span
from engine.adapters.http.page_memo import PageMemo
from engine.adapters.http.resources.enrollments import EnrollmentList
from engine.adapters.storage.sqlite import SqliteStore
from engine.domain.enums import EnrollmentState

PAGE = "/v2/sequence_enrollments"


def memo_of(api: Api) -> PageMemo:
    app = api.client.app
    resource = app._router.find(PAGE)[0]  # type: ignore[attr-defined]
    assert isinstance(resource, EnrollmentList)
    return resource.pages


def without_memo(api: Api, query: str, **kwargs: object) -> falcon.testing.Result:
    """The page as the use case renders it: the memo emptied first."""
    memo_of(api)._kept.entries.clear()
    return api.get(PAGE, query_string=query, **kwargs)


def same(a: falcon.testing.Result, b: falcon.testing.Result) -> None:
    assert a.status_code == b.status_code == 200
    assert a.content == b.content
    assert [k for k in a.headers if k != "x-request-id"] == \
        [k for k in b.headers if k != "x-request-id"]


def lists_in(statements: list[str]) -> int:
    return sum(1 for s in statements if s == "SELECT")


def test_a_kept_page_is_the_use_cases_bytes_from_one_list_read(sqlite_world):
    api, _ = sqlite_world
    sequence = api.sequence()
    for resource in range(1, 5):
        api.enroll(sequence, resource_id=resource)
    query = "per_page=3&page=1&sort_by=id"
    first = api.get(PAGE, query_string=query)
    store = api.engine.store
    assert isinstance(store, SqliteStore)
    seen: list[falcon.testing.Result] = []
    statements = statements_during(store, lambda: seen.append(
        through_falcon(api, PAGE, query_string=query)))
    assert statements == ["BEGIN", "SELECT", "SELECT", "ROLLBACK"]  # the two versions
    same(first, seen[0])
    same(seen[0], without_memo(api, query))
    assert first.json["meta"]["links"]["next_page"].endswith("page=2")
    missed = statements_during(store, lambda: without_memo(api, query))
    assert lists_in(missed) == 4  # the versions, the memo's rows, the use case's rows


def test_rows_unchanged_by_a_write_elsewhere_keep_their_bytes(sqlite_world):
    """A write the page does not show moves the enrollments version: Falcon's path reads
    the rows, finds them equal and stamps the kept bytes anew (no render)."""
    api, _ = sqlite_world
    sequence = api.sequence()
    for resource in range(1, 4):
        api.enroll(sequence, resource_id=resource)
    query = "per_page=2&sort_by=id"
    first = through_falcon(api, PAGE, query_string=query)
    kept = memo_of(api).kept((api.ids["account"], query))
    assert kept is not None
    api.enroll(sequence, resource_id=4)  # past the page and its next row
    again = through_falcon(api, PAGE, query_string=query)
    same(first, again)
    restamped = memo_of(api).kept((api.ids["account"], query))
    assert restamped is not None and restamped.body is kept.body
    assert restamped.stamp[1] > kept.stamp[1] and restamped.stamp[2] == kept.stamp[2]


def test_writes_of_another_process_are_seen_next(sqlite_world):
    api, path = sqlite_world
    sequence = api.sequence()
    ids = [api.enroll(sequence, resource_id=r)["id"] for r in (1, 2)]
    query = "per_page=2&sort_by=id"
    api.get(PAGE, query_string=query)
    assert "next_page" not in api.get(PAGE, query_string=query).json["meta"]["links"]
    other = SqliteStore(str(path))
    try:
        engine = build(other, SimulatedClock(START))
        engine.update_enrollment_state(api.ids["account"], ids[0], EnrollmentState.FINISHED,
                                       actor_id=api.ids["user"])
        finished = api.get(PAGE, query_string=query)
        assert finished.json["items"][0]["data"]["state"] == "finished"
        same(finished, without_memo(api, query))
        engine.enroll(api.ids["account"], sequence_id=sequence, resource_type="lead",
                      resource_id=3, actor_id=api.ids["user"])
        more = api.get(PAGE, query_string=query)  # the row past the page appeared
        assert more.json["meta"]["links"]["next_page"].endswith("page=2")
        same(more, without_memo(api, query))
        engine.update_sequence(api.ids["account"], sequence, name="Renamed elsewhere")
        renamed = api.get(PAGE, query_string=query)
        assert renamed.json["items"][1]["data"]["sequence"]["data"]["name"] == \
            "Renamed elsewhere"
    finally:
        other.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("UPDATE enrollments SET resource_id = 99 WHERE id = ?", (ids[1],))
    finally:
        conn.close()
    assert api.get(PAGE, query_string=query).json["items"][1]["data"]["resource_id"] == 99


def test_the_overdue_judgements_turn_with_the_clock(sqlite_world):
    api, _ = sqlite_world
    sequence = api.sequence()
    found = [api.enroll(sequence, resource_id=r) for r in (1, 2)]
    api.get(PAGE)
    assert [i["data"]["enrollment_steps"]["items"][0]["data"]["overdue"]
            for i in api.get(PAGE).json["items"]] == [False, False]
    clock = api.engine.clock
    assert isinstance(clock, SimulatedClock)
    estimated = api.engine.get_enrollment(api.ids["account"], found[0]["id"]) \
        .enrollment.actions[0].estimated_execute_at
    assert estimated is not None
    clock.set(estimated + api.engine.policy.email_grace + timedelta(microseconds=1))
    late = api.get(PAGE)
    assert [i["data"]["enrollment_steps"]["items"][0]["data"]["overdue"]
            for i in late.json["items"]] == [True, True]
    same(api.get(PAGE), late)
    same(late, without_memo(api, ""))


def test_pages_with_task_steps_are_answered_not_kept(sqlite_world):
    api, _ = sqlite_world
    api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    query = "per_page=5"
    answer = api.get(PAGE, query_string=query)
    assert answer.json["items"][0]["data"]["enrollment_steps"]["items"][0]["data"][
        "action"]["data"]["task_id"]
    assert (api.ids["account"], query) not in memo_of(api)._kept.entries
    same(answer, api.get(PAGE, query_string=query))


def test_each_account_and_query_has_its_own(sqlite_world):
    api, _ = sqlite_world
    memo_of(api)._kept.cap = 2
    api.enroll(api.sequence(), resource_id=1)
    api.enroll(api.sequence(as_="other"), resource_id=1, as_="other")
    mine, theirs = api.get(PAGE), api.get(PAGE, as_="other")
    assert mine.json["items"][0]["data"]["id"] != theirs.json["items"][0]["data"]["id"]
    kept = memo_of(api)._kept.entries
    assert list(kept) == [(api.ids["account"], ""), (api.ids["other"], "")]
    assert api.get(PAGE, query_string="state=finished").json["items"] == []
    assert list(kept) == [(api.ids["other"], ""), (api.ids["account"], "state=finished")]
    same(api.get(PAGE, as_="other"), theirs)


def test_the_span_of_the_judgements():
    from datetime import UTC, datetime

    a, b, c = (datetime(2026, 1, day, tzinfo=UTC) for day in (1, 2, 3))
    assert judged_span([]) == (None, None)
    assert judged_span([(None, False), (b, False), (c, False)]) == (None, b)
    assert judged_span([(a, True), (b, True), (c, False)]) == (b, c)
    assert judged_span([(b, True), (a, True)]) == (b, None)
    assert judged_span([(c, False), (a, False)]) == (None, a)
    assert judged_span([(a, False), (None, True)]) is None
    kept = Kept((), b"", b, c)
    assert [kept.holds(t) for t in (a, b, c)] == [False, True, False]
    assert Kept((), b"", None, None).holds(a)
