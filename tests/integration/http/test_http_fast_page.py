"""GET a page's fast path on SQLite (engine/adapters/http/fast_get.py, pages kept by
engine/adapters/http/page_memo.py): a hit is one autocommit SELECT and gives Falcon's
bytes and headers (the request id aside) for every query; a write through the engine,
through another store, in another process or by plain SQL is seen on the very next
GET; tokens, the catalog, the clock, task steps, the rate limit, the access log and
the metrics switch all behave as on Falcon's path."""

import logging
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
from http_world import START, TASK_STEPS, Api, build_api
from test_http_fast_get import (
    FakeMonotonic,
    assert_same_answer,
    create_logged,
    fast_of,
    statements_during,
    through_falcon,
)

from engine import SimulatedClock, build
from engine.adapters.http import RateLimit, TokenAuth, create_app
from engine.adapters.http.access_log import ACCESS_LOGGER
from engine.adapters.http.page_memo import reads_pages
from engine.adapters.metrics import Metrics
from engine.adapters.storage.sqlite import SqliteStore

PAGE = "/v2/sequence_enrollments"
ROOT = Path(__file__).resolve().parents[3]


def hit(api: Api, query: str = "", **kwargs: Any) -> falcon.testing.Result:
    """The page, which must be a fast hit: one statement, no transaction."""
    store = api.engine.store
    assert isinstance(store, SqliteStore)
    seen: list[falcon.testing.Result] = []
    assert statements_during(store, lambda: seen.append(
        api.get(PAGE, query_string=query, **kwargs))) == ["SELECT"]
    return seen[0]


def kept_world(api: Api) -> dict[str, int]:
    """Two sequences and seven enrollments (one finished, two on a customer)."""
    first, second = api.sequence(), api.sequence(name="Second")
    ids = [api.enroll(first if r % 2 else second, resource_id=r)["id"] for r in range(1, 6)]
    ids.append(api.enroll(first, resource_id=2, resource_type="contact")["id"])
    ids.append(api.enroll(second, resource_id=9, resource_type="contact")["id"])
    api.put(f"{PAGE}/{ids[2]}", {"state": "finished"})
    return {"first": first, "second": second, "id0": ids[0], "id3": ids[3]}


QUERIES = [
    "", "per_page=3", "per_page=3&page=2", "per_page=3&page=3", "per_page=3&page=9",
    "page=1", "per_page=7", "per_page=6", "sort_by=id:desc", "sort_by=created_at:desc",
    "sort_by=updated_at", "state=active", "state=finished", "resource_type=contact",
    "resource_ids=2,9", "ids={id0},{id3}", "sequence_id={first}&per_page=2",
    "sequence_id={second}&state=active&sort_by=id:desc&per_page=1&page=2",
    "resource_type=lead&resource_ids=1,2,3&per_page=2", "unknown=1&per_page=2",
    "per_page=2&flag", "per_page=2&page=2&x=%20y", "page=2&per_page=2",
]


def test_hits_are_falcons_bytes_for_every_query(sqlite_world):
    api, _ = sqlite_world
    names = kept_world(api)
    for template in QUERIES:
        query = template.format(**names)
        falcon_answer = through_falcon(api, PAGE, query_string=query)
        assert falcon_answer.status_code == 200, query
        api.get(PAGE, query_string=query)  # kept, if Falcon's path had not kept it
        fast = hit(api, query)
        assert_same_answer(fast, falcon_answer)
        assert list(fast.headers) == ["x-request-id", "content-language", "content-type",
                                      "content-length"]
        assert fast.headers["X-Request-Id"] != falcon_answer.headers["X-Request-Id"]


@pytest.mark.parametrize("query", [
    "page=0", "per_page=101", "per_page=2&per_page=3", "sort_by=name", "state=paused",
    "ids=x", "sequence_id=0",
])
def test_refused_queries_are_never_kept(sqlite_world, query):
    api, _ = sqlite_world
    kept_world(api)
    answers = [api.get(PAGE, query_string=query) for _ in range(2)]
    assert [a.status_code for a in answers] == [400, 400]
    assert_same_answer(answers[1], through_falcon(api, PAGE, query_string=query))
    assert fast_of(api).pages is not None
    assert fast_of(api).pages.kept((api.ids["account"], query)) is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("as_", "headers"), [
    ("other", {}),                        # another account: its own (empty) page
    ("noreach", {}),                      # no Reach
    ("write", {}),                        # no read scope
    ("read", {}),
    (None, {}),
    (None, {"Authorization": "Bearer " + "0" * 64}),
    (None, {"Authorization": "Basic abc"}),
])
def test_every_caller_gets_falcons_answer(sqlite_world, as_, headers):
    api, _ = sqlite_world
    kept_world(api)
    hit_query = "per_page=3"
    api.get(PAGE, query_string=hit_query)
    hit(api, hit_query)  # the rw token's page is kept
    for _ in range(2):
        assert_same_answer(api.get(PAGE, query_string=hit_query, as_=as_, headers=headers),
                           through_falcon(api, PAGE, query_string=hit_query, as_=as_,
                                          headers=headers))


def test_other_paths_and_methods_go_to_falcon(sqlite_world):
    api, _ = sqlite_world
    kept_world(api)
    api.get(PAGE)
    hit(api)
    for path in (f"{PAGE}/", "/v2/sequence_enrollments/", "/V2/sequence_enrollments"):
        assert_same_answer(api.get(path), through_falcon(api, path))
    store = api.engine.store
    assert isinstance(store, SqliteStore)
    head = api.call("HEAD", PAGE)
    assert head.status == api.client.simulate_head(PAGE, headers={
        "Authorization": f"Bearer {api.tokens['rw']}"}).status
    assert statements_during(store, lambda: api.call("HEAD", PAGE)) != ["SELECT"]


def test_writes_are_seen_next_whoever_makes_them(sqlite_world):
    api, path = sqlite_world
    names = kept_world(api)
    query = "per_page=3&sort_by=id"

    def fresh() -> dict[str, Any]:
        answer = api.get(PAGE, query_string=query)
        assert_same_answer(answer, through_falcon(api, PAGE, query_string=query))
        hit(api, query)
        found: dict[str, Any] = answer.json
        return found

    def states() -> list[str]:
        return [item["data"]["state"] for item in fresh()["items"]]

    assert states() == ["active", "active", "finished"]
    api.put(f"{PAGE}/{names['id0']}", {"state": "finished"})  # through the engine
    assert states() == ["finished", "active", "finished"]
    other = SqliteStore(str(path))  # another store's connections
    try:
        engine = build(other, SimulatedClock(START))
        engine.update_sequence(api.ids["account"], names["first"], name="Renamed elsewhere")
        assert fresh()["items"][0]["data"]["sequence"]["data"]["name"] == "Renamed elsewhere"
        engine.enroll(api.ids["account"], sequence_id=names["first"], resource_type="lead",
                      resource_id=50, actor_id=api.ids["user"])  # past the page
        assert states() == ["finished", "active", "finished"]
    finally:
        other.close()
    another_process(path, f"""
        engine.update_enrollment_state({api.ids['account']}, {names['id0'] + 1},
                                       EnrollmentState.FINISHED, actor_id={api.ids['user']})
    """)
    assert states() == ["finished", "finished", "finished"]
    conn = sqlite3.connect(path, isolation_level=None)  # plain SQL
    try:
        conn.execute("UPDATE enrollments SET resource_id = 99 WHERE id = ?", (names["id0"],))
    finally:
        conn.close()
    assert fresh()["items"][0]["data"]["resource_id"] == 99


def test_a_new_row_past_the_page_brings_its_next_link(sqlite_world):
    api, path = sqlite_world
    sequence = api.sequence()
    api.enroll(sequence, resource_id=1)
    api.enroll(sequence, resource_id=2)
    query = "per_page=2"
    api.get(PAGE, query_string=query)
    assert "next_page" not in hit(api, query).json["meta"]["links"]
    another_process(path, f"""
        engine.enroll({api.ids['account']}, sequence_id={sequence}, resource_type="lead",
                      resource_id=3, actor_id={api.ids['user']})
    """)
    more = api.get(PAGE, query_string=query)
    assert more.json["meta"]["links"]["next_page"].endswith("per_page=2&page=2")
    assert_same_answer(more, through_falcon(api, PAGE, query_string=query))
    assert_same_answer(hit(api, query), more)


def another_process(path: Path, code: str) -> None:
    """`code` run by another Python process on the same file, with `engine` built there."""
    script = "\n".join([
        "from engine import SimulatedClock, build",
        "from engine.adapters.storage.sqlite import SqliteStore",
        "from engine.domain.enums import EnrollmentState",
        "from http_world import START",
        f"store = SqliteStore({str(path)!r})",
        "engine = build(store, SimulatedClock(START))",
        textwrap.dedent(code),
        "store.close()",
    ])
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT,
                   env={"PYTHONPATH": f"{ROOT}:{Path(__file__).parent}"})


def test_what_no_page_shows_moves_nothing(sqlite_world):
    """The scheduler's claims and queue (claimed_by, claim_until, claim_seq, due_at) are
    never rendered: writing them leaves the version, and the kept page is still right."""
    api, path = sqlite_world
    kept_world(api)
    api.get(PAGE)
    before = hit(api)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        version = conn.execute("SELECT version FROM enrollments_version").fetchone()
        conn.execute("UPDATE enrollments SET claim_seq = claim_seq + 1, claimed_by = 'w', "
                     "claim_until = 1, due_at = 2")
        assert conn.execute("SELECT version FROM enrollments_version").fetchone() == version
        conn.execute("UPDATE enrollments SET claimed_by = NULL, claim_until = NULL, "
                     "due_at = NULL")
        shown = conn.execute("UPDATE enrollments SET updated_at = updated_at").rowcount
        assert conn.execute("SELECT version FROM enrollments_version").fetchone() \
            == (version[0] + shown,)  # once a row
    finally:
        conn.close()
    assert_same_answer(before, through_falcon(api, PAGE))


@pytest.mark.parametrize("statement", [
    "INSERT INTO step_lists (body) VALUES ('[]')",
    "UPDATE step_lists SET body = body || ' '",
    "DELETE FROM step_lists WHERE id NOT IN (SELECT steps_id FROM enrollments "
    "UNION SELECT steps_id FROM sequences)",
    "DELETE FROM enrollments WHERE state = 'finished'",
    "INSERT INTO enrollments SELECT * FROM enrollments WHERE 0",  # no row: no bump
])
def test_every_write_a_page_shows_moves_the_version(sqlite_world, statement):
    api, path = sqlite_world
    kept_world(api)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("INSERT INTO step_lists (body) VALUES ('[[\"spare\"]]')")
        version = conn.execute("SELECT version FROM enrollments_version").fetchone()[0]
        changed = conn.execute(statement).rowcount
        assert conn.execute("SELECT version FROM enrollments_version").fetchone()[0] == \
            version + changed
    finally:
        conn.close()


def test_a_revoked_token_is_refused_next(sqlite_world):
    api, path = sqlite_world
    kept_world(api)
    api.get(PAGE)
    hit(api)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("UPDATE api_tokens SET scopes = '[\"write\"]'")
    finally:
        conn.close()
    refused = api.get(PAGE)
    assert refused.status_code == 403
    assert_same_answer(refused, through_falcon(api, PAGE))


def test_a_token_revoked_after_its_hit_is_refused_though_another_kept_the_page(
        sqlite_world):
    """The token memo keeps the catalog version each token was judged at: a page kept
    again at a newer version by another token serves no token judged before it."""
    api, path = sqlite_world
    kept_world(api)
    api.get(PAGE, as_="read")
    hit(api, as_="read")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("UPDATE api_tokens SET revoked = 1 WHERE scopes = '[\"read\"]'")
    finally:
        conn.close()
    api.get(PAGE)
    hit(api)  # the rw token's, kept at the new version
    refused = api.get(PAGE, as_="read")
    assert refused.status_code == 401
    assert_same_answer(refused, through_falcon(api, PAGE, as_="read"))


def test_the_overdue_judgements_turn_with_the_clock(sqlite_world):
    api, _ = sqlite_world
    sequence = api.sequence()
    found = [api.enroll(sequence, resource_id=r) for r in (1, 2)]
    api.get(PAGE)

    def overdue(answer: falcon.testing.Result) -> list[bool]:
        return [i["data"]["enrollment_steps"]["items"][0]["data"]["overdue"]
                for i in answer.json["items"]]

    assert overdue(hit(api)) == [False, False]
    clock = api.engine.clock
    assert isinstance(clock, SimulatedClock)
    estimated = api.engine.get_enrollment(api.ids["account"], found[0]["id"]) \
        .enrollment.actions[0].estimated_execute_at
    assert estimated is not None
    clock.set(estimated + api.engine.policy.email_grace)  # not yet: strictly after
    assert overdue(hit(api)) == [False, False]
    clock.set(estimated + api.engine.policy.email_grace + timedelta(microseconds=1))
    late = api.get(PAGE)
    assert overdue(late) == [True, True]
    assert_same_answer(hit(api), late)
    assert_same_answer(late, through_falcon(api, PAGE))


def test_pages_with_task_steps_are_never_hits(sqlite_world):
    api, _ = sqlite_world
    api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)
    store = api.engine.store
    assert isinstance(store, SqliteStore)
    answers: list[falcon.testing.Result] = []
    for _ in range(2):
        assert statements_during(store, lambda: answers.append(api.get(PAGE))) != ["SELECT"]
    assert answers[0].json["items"][0]["data"]["enrollment_steps"]["items"][0]["data"][
        "action"]["data"]["task_id"]
    assert_same_answer(answers[1], through_falcon(api, PAGE))


def test_the_rate_limit_is_spent_once_a_request(tmp_path):
    clock = FakeMonotonic()
    store = SqliteStore(str(tmp_path / "limited.db"))
    try:
        api = build_api(RateLimit(limit=3600, period=3600, burst=4), clock, store=store)
        api.enroll(api.sequence())
        clock.now += 3600  # full again after the set-up's requests
        answers = []
        for _ in range(5):
            before = clock.readings
            answers.append(api.get(PAGE, query_string="per_page=1"))
            assert clock.readings == before + 1
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["3", "2", "1", "0", "0"]
        assert list(answers[2].headers) == [
            "x-request-id", "content-language", "content-type", "ratelimit-limit",
            "ratelimit-remaining", "ratelimit-reset", "content-length"]
        clock.now += 3600
        before = clock.readings
        assert hit(api, "per_page=1").headers["RateLimit-Remaining"] == "3"
        assert clock.readings == before + 1
        for _ in range(3):
            api.get(PAGE, query_string="per_page=1")
        refused = api.get(PAGE, query_string="per_page=1")
        assert refused.json["errors"][0]["error"]["code"] == "rate_limit_exceeded"
        assert refused.headers["Retry-After"] == "1"
        assert_same_answer(refused, through_falcon(api, PAGE, query_string="per_page=1"))
    finally:
        store.close()


def test_the_access_log_has_the_fast_pages_too(sqlite_world, caplog):
    api, _ = sqlite_world
    kept_world(api)
    client = falcon.testing.TestClient(create_logged(api))
    headers = {"Authorization": f"Bearer {api.tokens['rw']}"}
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        answers = [client.simulate_get(PAGE, query_string="per_page=2", headers=headers)
                   for _ in range(2)]
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [(r.method, r.path, r.status) for r in lines] == [("GET", PAGE, 200)] * 2
    assert [r.request_id for r in lines] == [a.headers["X-Request-Id"] for a in answers]
    assert statements_during(api.engine.store, lambda: client.simulate_get(  # type: ignore[arg-type]
        PAGE, query_string="per_page=2", headers=headers)) == ["SELECT"]


def test_metrics_keep_falcons_path(sqlite_world):
    api, _ = sqlite_world
    engine = api.engine
    app = create_app(engine, auth=TokenAuth(engine.store), rate_limit=None,
                     clock_mode="simulated", metrics=Metrics(engine.store, engine.clock))
    assert app.fast_get is None


def test_pages_are_fresh_after_writes_on_every_store(api):
    """The same answers on the in-memory store and on SQLite, where pages are hits."""
    sequence = api.sequence()
    ids = [api.enroll(sequence, resource_id=r)["id"] for r in (1, 2)]
    for _ in range(2):
        assert [i["data"]["state"] for i in api.get(PAGE).json["items"]] == ["active"] * 2
    api.put(f"{PAGE}/{ids[1]}", {"state": "finished"})
    for _ in range(2):
        assert [i["data"]["state"] for i in api.get(PAGE).json["items"]] == \
            ["active", "finished"]
    api.enroll(sequence, resource_id=3)
    for _ in range(2):
        assert len(api.get(PAGE).json["items"]) == 3


def test_only_a_store_with_both_reads_keeps_pages(sqlite_world):
    api, _ = sqlite_world

    class RowsOnly:
        def enrollment_rows(self) -> None: ...

    assert not reads_pages(object()) and not reads_pages(RowsOnly())
    store = api.engine.store
    assert isinstance(store, SqliteStore)
    with store.unit_of_work(read_only=True) as uow:
        assert reads_pages(uow)
