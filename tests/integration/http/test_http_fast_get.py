"""GET one's fast path on SQLite (engine/adapters/http/fast_get.py): a memo hit, a miss
and Falcon's own path give the same bytes and headers (the request id aside), every
write by another connection or process is seen on the very next GET, the overdue
judgement turns with the clock, and every refusal is Falcon's own."""

import logging
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import falcon.testing
import pytest
from http_world import START, TASK_STEPS, Api, build_api, seed_bytes, seed_world
from http_world import assert_same_answer as same_answer

from engine import SimulatedClock, build
from engine.adapters.http import RateLimit, TokenAuth, create_app, issue_token
from engine.adapters.http.access_log import ACCESS_LOGGER
from engine.adapters.http.app import EngineApp
from engine.adapters.http.fast_get import FastGet, enrollment_id
from engine.adapters.storage.sqlite import SqliteStore
from engine.domain.enums import EnrollmentState, ResourceType
from engine.wire.parse import MAX_ID

VARYING = frozenset({"x-request-id", "ratelimit-remaining"})


class FakeMonotonic:
    """The rate limit's clock; counts its readings (one per spend)."""

    def __init__(self) -> None:
        self.now, self.readings = 1000.0, 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now


def app_of(api: Api) -> EngineApp:
    app = api.client.app
    assert isinstance(app, EngineApp)
    return app


def fast_of(api: Api) -> FastGet:
    fast = app_of(api).fast_get
    assert fast is not None
    return fast


def first_word(statement: str) -> str:
    """A statement's first keyword, past its comment lines."""
    return next(line for line in statement.splitlines()
                if not line.lstrip().startswith("--")).split()[0]


def statements_during(store: SqliteStore, action: Callable[[], object]) -> list[str]:
    """The first keyword of every statement the store runs: on the connections the pool
    holds (a lone statement takes one straight from it) and on those units acquire."""
    seen: list[str] = []

    def record(text: str) -> None:
        seen.append(first_word(text))

    acquire = store.acquire

    def traced() -> sqlite3.Connection:
        conn = acquire()
        conn.set_trace_callback(record)
        return conn

    idle = list(store._idle)
    for conn in idle:
        conn.set_trace_callback(record)
    store.acquire = traced  # type: ignore[method-assign]
    try:
        action()
    finally:
        store.acquire = acquire  # type: ignore[method-assign]
        for conn in idle:
            conn.set_trace_callback(None)
    return seen


def through_falcon(api: Api, path: str, **kwargs: Any) -> falcon.testing.Result:
    """The same request with the fast path out of the way."""
    app = app_of(api)
    fast, app.fast_get = app.fast_get, None
    try:
        return api.get(path, **kwargs)
    finally:
        app.fast_get = fast


def assert_same_answer(a: falcon.testing.Result, b: falcon.testing.Result) -> None:
    same_answer(a, b, VARYING)


def test_a_hit_a_miss_and_falcon_answer_the_same_bytes(sqlite_world):
    api, _ = sqlite_world
    store = api.engine.store
    assert isinstance(store, SqliteStore)
    path = f"/v2/sequence_enrollments/{api.enroll(api.sequence())['id']}"
    miss = api.get(path)
    seen: list[falcon.testing.Result] = []
    assert statements_during(store, lambda: seen.append(api.get(path))) == ["SELECT"]
    hit, falcon_path = seen[0], through_falcon(api, path)
    assert miss.status_code == hit.status_code == 200
    assert_same_answer(miss, hit)
    assert_same_answer(hit, falcon_path)
    assert miss.headers["X-Request-Id"] != hit.headers["X-Request-Id"]
    assert list(hit.headers) == ["x-request-id", "content-language", "content-type",
                                 "content-length"]


def test_the_seed_bytes_from_a_hit(tmp_path):
    """test_http_enrollments' seed example on SQLite: the seed's bytes, missed and hit."""
    store = SqliteStore(str(tmp_path / "seed.db"))
    try:
        engine = seed_world(store)
        engine.enroll(1, sequence_id=554, resource_type=ResourceType.LEAD,
                      resource_id=12866615, actor_id=2168016, enrollment_id=11752426)
        client = falcon.testing.TestClient(create_app(
            engine, auth=TokenAuth(store), rate_limit=None, clock_mode="simulated"))
        headers = {"Authorization": f"Bearer {issue_token(store, 2168016)}"}
        path = "/v2/sequence_enrollments/11752426"
        for _ in range(2):
            assert client.simulate_get(path, headers=headers).content == seed_bytes()
        assert statements_during(store, lambda: client.simulate_get(
            path, headers=headers)) == ["SELECT"]
    finally:
        store.close()


def test_writes_of_another_process_are_seen_next(sqlite_world):
    api, path_of_db = sqlite_world
    sequence = api.sequence()
    found = api.enroll(sequence)
    path = f"/v2/sequence_enrollments/{found['id']}"
    api.get(path)
    assert api.get(path).json["data"]["state"] == "active"
    other = SqliteStore(str(path_of_db))  # another connection pool, as another process has
    try:
        engine = build(other, SimulatedClock(START))
        engine.update_enrollment_state(api.ids["account"], found["id"],
                                       EnrollmentState.FINISHED, actor_id=api.ids["user"])
        finished = api.get(path)
        assert finished.json["data"]["state"] == "finished"
        assert_same_answer(finished, through_falcon(api, path))
        engine.update_sequence(api.ids["account"], sequence, name="Renamed elsewhere")
        renamed = api.get(path)  # the catalog changed, the enrollment's row did not
        assert renamed.json["data"]["sequence"]["data"]["name"] == "Renamed elsewhere"
        assert_same_answer(renamed, through_falcon(api, path))
    finally:
        other.close()
    conn = sqlite3.connect(path_of_db, isolation_level=None)  # plain SQL
    try:
        conn.execute("UPDATE enrollments SET finished_reason = 'replied_to_email' WHERE id = ?",
                     (found["id"],))
    finally:
        conn.close()
    assert api.get(path).json["data"]["finished_reason"] == "replied_to_email"


def test_the_overdue_judgement_turns_with_the_clock(sqlite_world):
    api, _ = sqlite_world
    found = api.enroll(api.sequence())
    path = f"/v2/sequence_enrollments/{found['id']}"
    first = found["enrollment_steps"]["items"][0]["data"]
    assert first["overdue"] is False
    api.get(path)
    assert api.get(path).json["data"]["enrollment_steps"]["items"][0]["data"]["overdue"] \
        is False
    clock = api.engine.clock
    assert isinstance(clock, SimulatedClock)
    estimated = api.engine.get_enrollment(api.ids["account"], found["id"]) \
        .enrollment.actions[0].estimated_execute_at
    assert estimated is not None
    clock.set(estimated + api.engine.policy.email_grace)  # not yet: strictly after
    assert api.get(path).json["data"]["enrollment_steps"]["items"][0]["data"]["overdue"] \
        is False
    clock.set(estimated + api.engine.policy.email_grace + timedelta(microseconds=1))
    late = api.get(path)
    assert late.json["data"]["enrollment_steps"]["items"][0]["data"]["overdue"] is True
    assert_same_answer(api.get(path), late)
    assert_same_answer(late, through_falcon(api, path))


def test_task_steps_are_answered_not_kept(sqlite_world):
    api, _ = sqlite_world
    found = api.enroll(api.sequence(TASK_STEPS))
    api.advance(1)  # the task exists: its owner judges the step
    path = f"/v2/sequence_enrollments/{found['id']}"
    answer = api.get(path)
    assert answer.json["data"]["enrollment_steps"]["items"][0]["data"]["action"]["data"][
        "task_id"]
    assert_same_answer(answer, through_falcon(api, path))
    assert (api.ids["account"], found["id"]) not in fast_of(api)._kept.entries
    plain = api.enroll(api.sequence(), resource_id=77)
    api.get(f"/v2/sequence_enrollments/{plain['id']}")
    assert (api.ids["account"], plain["id"]) in fast_of(api)._kept.entries


@pytest.mark.parametrize(("as_", "headers", "suffix"), [
    ("rw", {}, "{id}"),
    ("rw", {}, "0{id}"),                 # leading zero: Falcon's int converter takes it
    ("rw", {}, "999999"),                # not found
    ("rw", {}, str(MAX_ID + 1)),         # beyond the route
    ("rw", {}, "{id}/"),
    ("other", {}, "{id}"),               # another account's
    ("noreach", {}, "{id}"),
    ("write", {}, "{id}"),               # no read scope
    ("read", {}, "{id}"),
    (None, {}, "{id}"),
    (None, {"Authorization": "Bearer " + "0" * 64}, "{id}"),
    (None, {"Authorization": "Basic abc"}, "{id}"),
])
def test_every_answer_is_falcons(sqlite_world, as_, headers, suffix):
    api, _ = sqlite_world
    found = api.enroll(api.sequence())
    path = "/v2/sequence_enrollments/" + suffix.format(id=found["id"])
    api.get(f"/v2/sequence_enrollments/{found['id']}")  # kept
    for _ in range(2):
        assert_same_answer(api.get(path, as_=as_, headers=headers),
                           through_falcon(api, path, as_=as_, headers=headers))


def test_a_revoked_token_is_refused_next_though_the_body_is_kept(sqlite_world):
    api, path_of_db = sqlite_world
    path = f"/v2/sequence_enrollments/{api.enroll(api.sequence())['id']}"
    assert api.get(path).status_code == api.get(path).status_code == 200
    conn = sqlite3.connect(path_of_db, isolation_level=None)
    try:
        conn.execute("UPDATE api_tokens SET scopes = '[\"write\"]'")
    finally:
        conn.close()
    assert api.get(path).status_code == 403


def test_the_rate_limit_is_spent_once_a_request(tmp_path):
    clock = FakeMonotonic()
    store = SqliteStore(str(tmp_path / "limited.db"))
    try:
        api = build_api(RateLimit(limit=3600, period=3600, burst=3), clock, store=store)
        path = f"/v2/sequence_enrollments/{api.enroll(api.sequence())['id']}"
        clock.now += 3600  # full again after the set-up's requests
        answers = []
        for _ in range(4):
            before = clock.readings
            answers.append(api.get(path))
            assert clock.readings == before + 1
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert answers[2].headers["RateLimit-Limit"] == "3"
        assert answers[2].headers["RateLimit-Reset"] == "3"
        refused = answers[3]
        assert refused.json["errors"][0]["error"]["code"] == "rate_limit_exceeded"
        assert refused.headers["Retry-After"] == "1"
        assert_same_answer(refused, through_falcon(api, path))
        clock.now += 1
        assert api.get(path).status_code == 200
    finally:
        store.close()


def test_the_access_log_has_the_fast_answers_too(sqlite_world, caplog):
    api, _ = sqlite_world
    path = f"/v2/sequence_enrollments/{api.enroll(api.sequence())['id']}"
    app = create_logged(api)
    client = falcon.testing.TestClient(app)
    headers = {"Authorization": f"Bearer {api.tokens['rw']}"}
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        answers = [client.simulate_get(path, headers=headers) for _ in range(2)]
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [(r.method, r.path, r.status) for r in lines] == [("GET", path, 200)] * 2
    assert [r.request_id for r in lines] == [a.headers["X-Request-Id"] for a in answers]
    assert all(r.duration_ms >= 0 for r in lines)
    assert statements_during(api.engine.store, lambda: client.simulate_get(
        path, headers=headers)) == ["SELECT"]


def create_logged(api: Api) -> EngineApp:
    return create_app(api.engine, auth=TokenAuth(api.engine.store), rate_limit=None,
                      clock_mode="simulated", access_log=True)


def test_the_memo_is_bounded(sqlite_world):
    api, _ = sqlite_world
    fast_of(api)._kept.cap = 3
    sequence = api.sequence()
    ids = [api.enroll(sequence, resource_id=r)["id"] for r in range(1, 6)]
    for enrollment in ids:
        assert api.get(f"/v2/sequence_enrollments/{enrollment}").status_code == 200
    kept = fast_of(api)._kept.entries
    assert list(kept) == [(api.ids["account"], i) for i in ids[2:]]  # the oldest went
    api.get(f"/v2/sequence_enrollments/{ids[3]}")  # a hit: nothing moves
    api.get(f"/v2/sequence_enrollments/{ids[0]}")  # a miss again, kept at the young end
    assert list(kept) == [(api.ids["account"], i) for i in (ids[3], ids[4], ids[0])]


def test_the_fast_path_is_only_where_a_statement_is_a_snapshot(sqlite_world):
    api, _ = sqlite_world
    assert FastGet.serves(api.engine.store)
    memory = build_api()
    assert app_of(memory).fast_get is None
    assert not FastGet.serves(memory.engine.store)


@pytest.mark.parametrize(("text", "expected"), [
    ("/v2/sequence_enrollments/1", 1),
    ("/v2/sequence_enrollments/1234567", 1234567),
    (f"/v2/sequence_enrollments/{MAX_ID}", MAX_ID),
    (f"/v2/sequence_enrollments/{MAX_ID + 1}", None),
    ("/v2/sequence_enrollments/99999999999999999999", None),
    ("/v2/sequence_enrollments/0", None),
    ("/v2/sequence_enrollments/01", None),
    ("/v2/sequence_enrollments/", None),
    ("/v2/sequence_enrollments/1/", None),
    ("/v2/sequence_enrollments/1a", None),
    ("/v2/sequence_enrollments/\u0661", None),  # an Arabic-Indic one: a digit, not ASCII
    ("/v2/sequence_enrollments/-1", None),
    ("/v2/sequences/1", None),
    ("/v2/sequence_enrollments", None),
])
def test_the_paths_it_takes(text, expected):
    assert enrollment_id(text) == expected
