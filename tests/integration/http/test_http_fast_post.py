"""POST create's fast path on SQLite (engine/adapters/http/fast_post.py): its answer and
Falcon's are the same bytes and headers (the request id aside), every request that is
not the common case gets Falcon's own answer with the rate limit spent once and
nothing changed, a token's change by another connection is seen on the next request,
and creates from threads and from two processes on one file never make two ongoing
enrollments of one resource in one sequence."""

import io
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
from http_world import Api, assert_same_answer, build_api

from engine.adapters.http import RateLimit, TokenAuth, create_app
from engine.adapters.http.access_log import ACCESS_LOGGER
from engine.adapters.http.app import EngineApp
from engine.adapters.http.fast_post import FastPost, body_length
from engine.adapters.http.tokens import hash_token
from engine.adapters.storage.sqlite import SqliteStore

PATH = "/v2/sequence_enrollments"
LIMIT = RateLimit(limit=1000, period=1, burst=1000)  # (the clock stands still)


class FixedMonotonic:
    """The rate limit's clock, standing still: every spend is seen in the headers."""

    def __call__(self) -> float:
        return 1000.0


class Twins:
    """Two equal worlds on SQLite files: `fast` with POST create's fast path, `falcon`
    with it off. Their clocks stand at one instant, so equal requests get equal bytes."""

    def __init__(self, tmp_path: Path, rate_limit: RateLimit | None) -> None:
        self.stores = [SqliteStore(str(tmp_path / f"{name}.db")) for name in ("a", "b")]
        self.fast, self.falcon = (
            build_api(store=store, clock_mode="system", rate_limit=rate_limit,
                      rate_clock=FixedMonotonic())
            for store in self.stores)
        self.falcon.tokens = self.fast.tokens  # one token set, for equal requests
        with self.stores[0].unit_of_work(read_only=True) as source, \
                self.stores[1].unit_of_work() as target:
            for token in self.fast.tokens.values():
                found = source.get_token(hash_token(token))
                assert found is not None
                target.save_token(found)
            target.commit()
        app_of(self.falcon).fast_post = None
        self.answered: list[bool] = []  # per request to `fast`: did the fast path answer
        fast_post = app_of(self.fast).fast_post
        assert fast_post is not None

        def recording(env: dict[str, Any], start_response: Any) -> list[bytes] | None:
            found = fast_post(env, start_response)
            self.answered.append(found is not None)
            return found

        app_of(self.fast).fast_post = recording  # type: ignore[assignment]
        self.sequence = self.both(lambda api: api.sequence())

    def both(self, call: Callable[[Api], Any]) -> Any:
        first, second = call(self.fast), call(self.falcon)
        assert first == second
        return first

    def post(self, **kwargs: Any) -> tuple[falcon.testing.Result, falcon.testing.Result]:
        self.answered.clear()
        return self.fast.call("POST", PATH, **kwargs), self.falcon.call("POST", PATH, **kwargs)

    def close(self) -> None:
        for store in self.stores:
            store.close()


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[Twins]:
    found = Twins(tmp_path, LIMIT)
    try:
        yield found
    finally:
        found.close()


def app_of(api: Api) -> EngineApp:
    app = api.client.app
    assert isinstance(app, EngineApp)
    return app


def create(sequence: int, resource_id: int = 5, **more: Any) -> dict[str, Any]:
    return {"json": {"data": {"sequence_id": sequence, "resource_type": "lead",
                              "resource_id": resource_id, **more}}}


def enrollments(api: Api, as_: str = "rw") -> list[dict[str, Any]]:
    found = []
    for page in (1, 2):
        listed = api.get(PATH, query_string=f"per_page=100&page={page}", as_=as_).json
        found += [item["data"] for item in listed["items"]]
    return found


def test_the_fast_path_and_falcon_answer_the_same_bytes(twins: Twins) -> None:
    fast, slow = twins.post(**create(twins.sequence))
    assert twins.answered == [True]
    assert fast.status_code == 200 and "ratelimit-remaining" in fast.headers
    assert_same_answer(fast, slow)
    assert fast.headers["X-Request-Id"] != slow.headers["X-Request-Id"]
    # with an actor of the account, and with `meta` beside `data`
    colleague = twins.fast.ids["colleague"]
    fast, slow = twins.post(json={"data": {"sequence_id": twins.sequence,
                                           "resource_type": "contact", "resource_id": 7,
                                           "actor_id": colleague},
                                  "meta": {"type": "sequence_enrollment"}})
    assert twins.answered == [True]
    assert fast.json["data"]["actor_id"] == colleague
    assert_same_answer(fast, slow)
    assert enrollments(twins.fast) == enrollments(twins.falcon)


def test_without_a_rate_limit_the_answers_are_the_same(tmp_path: Path) -> None:
    twins = Twins(tmp_path, None)
    try:
        fast, slow = twins.post(**create(twins.sequence))
        assert twins.answered == [True] and "ratelimit-limit" not in fast.headers
        assert_same_answer(fast, slow)
    finally:
        twins.close()


REFUSED: dict[str, Callable[[Twins], dict[str, Any]]] = {
    "an Idempotency-Key": lambda t: {**create(t.sequence), "headers": {"Idempotency-Key": "k"}},
    "no token": lambda t: {**create(t.sequence), "as_": None},
    "a malformed token": lambda t: {**create(t.sequence),
                                    "headers": {"Authorization": "Bearer nope"}},
    "an unknown token": lambda t: {**create(t.sequence),
                                   "headers": {"Authorization": "Bearer " + "ab" * 32}},
    "a read-only token": lambda t: {**create(t.sequence), "as_": "read"},
    "an account without Reach": lambda t: {**create(t.sequence), "as_": "noreach"},
    "a text body": lambda t: {"body": b"hello", "headers": {"Content-Type": "text/plain"}},
    "no content type": lambda t: {"body": b'{"data": {}}', "headers": {"Content-Type": ""}},
    "no body": lambda t: {},
    "a body that is not JSON": lambda t: {"body": b"{not json"},
    "a key twice": lambda t: {"body": b'{"data": {"sequence_id": 1, "sequence_id": 1}}'},
    "a missing field": lambda t: {"json": {"data": {"sequence_id": t.sequence}}},
    "an unknown sequence": lambda t: create(999_999),
    "a stranger's sequence": lambda t: {**create(t.sequence), "as_": "other"},
    "an actor of another account": lambda t: create(t.sequence, actor_id=t.fast.ids["stranger"]),
    "a string id": lambda t: create(t.sequence, resource_id="x"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_every_other_request_gets_falcons_answer_and_changes_nothing(twins: Twins,
                                                                     case: str) -> None:
    before = twins.both(enrollments)
    fast, slow = twins.post(**REFUSED[case](twins))
    assert twins.answered == [False]
    assert fast.status_code != 200 or case == "an Idempotency-Key"
    assert_same_answer(fast, slow)  # the rate limit's headers too: spent once, or not
    if case != "an Idempotency-Key":
        assert twins.both(enrollments) == before


def test_a_second_ongoing_enrollment_is_falcons_422(twins: Twins) -> None:
    twins.post(**create(twins.sequence))
    fast, slow = twins.post(**create(twins.sequence))
    assert twins.answered == [False]
    assert fast.status_code == 422 and fast.json["errors"][0]["error"]["code"] == "already_exists"
    assert_same_answer(fast, slow)
    assert len(twins.both(enrollments)) == 1


def test_beyond_the_rate_limit_it_is_falcons_429_spent_once(tmp_path: Path) -> None:
    twins = Twins(tmp_path, RateLimit(limit=4, period=1, burst=4))  # the sequence takes 1
    try:
        answers = [twins.post(**create(twins.sequence, resource_id=n)) for n in (1, 2, 3, 4)]
        for fast, slow in answers:
            assert_same_answer(fast, slow)
        assert [fast.status_code for fast, _ in answers] == [200, 200, 200, 429]
        assert twins.answered == [False]
        assert answers[-1][0].headers["Retry-After"] == answers[-1][1].headers["Retry-After"]
    finally:
        twins.close()


def test_an_idempotent_retry_still_replays(twins: Twins) -> None:
    api = twins.fast
    sent = {**create(twins.sequence), "headers": {"Idempotency-Key": "once"}}
    first, again = api.call("POST", PATH, **sent), api.call("POST", PATH, **sent)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.content == first.content
    assert len(enrollments(api)) == 1


def test_a_token_changed_by_another_connection_is_judged_anew(sqlite_world) -> None:
    world, path = sqlite_world
    api = build_api(store=world.engine.store, clock_mode="system")
    sequence = api.sequence()
    assert api.call("POST", PATH, **create(sequence, resource_id=1)).status_code == 200
    with sqlite3.connect(path) as other:
        other.execute("UPDATE api_tokens SET revoked = 1 WHERE token_hash = ?",
                      (hash_token(api.tokens["rw"]),))
    refused = api.call("POST", PATH, **create(sequence, resource_id=2))
    assert refused.status_code == 401
    assert [e["resource_id"] for e in enrollments(api, as_="read")] == [1]


def environ(api: Api, body: io.RawIOBase | io.BytesIO, length: int) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": PATH, "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.input": body, "wsgi.errors": sys.stderr,
            "HTTP_AUTHORIZATION": f"Bearer {api.tokens['rw']}",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(length),
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False}


def call(app: EngineApp, env: dict[str, Any]) -> tuple[str, dict[str, str], Iterator[bytes]]:
    seen: list[Any] = []
    body = app(env, lambda status, headers, exc=None: seen.append((status, headers)))
    return seen[0][0], dict(seen[0][1]), iter(body)


def test_a_body_shorter_than_its_length_is_falcons_400(twins: Twins) -> None:
    raw = b'{"data": {"sequence_id": 1}}'
    twins.answered.clear()
    answers = [call(app_of(api), environ(api, io.BytesIO(raw), len(raw) + 10))
               for api in (twins.fast, twins.falcon)]
    assert answers[0][0] == answers[1][0] == "400 Bad Request"
    assert list(answers[0][1]) == list(answers[1][1])
    assert twins.answered == [False]


class Stalled(io.RawIOBase):
    """A body whose bytes arrive only once released."""

    def __init__(self) -> None:
        self.arrived = threading.Event()

    def read(self, size: int = -1) -> bytes:
        self.arrived.wait()
        return b""


def test_a_stalled_body_is_falcons_408_at_the_deadline(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "stall.db"))
    try:
        api = build_api(store=store, clock_mode="system")
        app = create_app(api.engine, auth=TokenAuth(store), rate_limit=None,
                         clock_mode="system", request_timeout=0.05)
        assert isinstance(app, EngineApp) and app.fast_post is not None
        body = Stalled()
        status, headers, chunks = call(app, environ(api, body, 40))
        assert status == "408 Request Timeout" and headers["connection"] == "close"
        assert b"request_timeout" in next(chunks)
        body.arrived.set()  # the client sends the rest: the answer's last step returns
        assert list(chunks) == []
        assert enrollments(api) == []
    finally:
        store.close()


def test_an_answer_before_the_body_still_waits_for_its_abandoned_read(
        tmp_path: Path) -> None:
    """The fast path judged the token, then the body stalled past the deadline; the
    token is revoked meanwhile, so Falcon answers 401 before it reads the body. The
    answer must not end while the reader still waits on the client (body.py)."""
    path = tmp_path / "revoked.db"
    store = SqliteStore(str(path))
    try:
        api = build_api(store=store, clock_mode="system")
        app = create_app(api.engine, auth=TokenAuth(store), rate_limit=None,
                         clock_mode="system", request_timeout=0.05)
        assert isinstance(app, EngineApp) and app.fast_post is not None
        token_hash = hash_token(api.tokens["rw"])

        class RevokedWhileStalled(Stalled):
            def read(self, size: int = -1) -> bytes:
                with sqlite3.connect(path) as other:
                    other.execute("UPDATE api_tokens SET revoked = 1 WHERE token_hash = ?",
                                  (token_hash,))
                return super().read(size)

        body = RevokedWhileStalled()
        status, _, chunks = call(app, environ(api, body, 40))
        assert status == "401 Unauthorized"
        assert b"unauthorized" in next(chunks)
        ended = threading.Event()
        rest = threading.Thread(target=lambda: (list(chunks), ended.set()))
        rest.start()
        assert not ended.wait(0.2)  # held: its reader still waits on the body
        body.arrived.set()  # the client sends the rest (or goes)
        assert ended.wait(5)
        rest.join()
        assert enrollments(api, as_="read") == []
    finally:
        store.close()


def test_body_length_takes_a_whole_json_body_of_up_to_1_mib() -> None:
    json_type = {"CONTENT_TYPE": "application/json; charset=utf-8"}
    assert body_length({**json_type, "CONTENT_LENGTH": "12"}) == 12
    assert body_length({**json_type, "CONTENT_LENGTH": str(1 << 20)}) == 1 << 20
    for refused in ("", "0", str((1 << 20) + 1), "-1", "1e3", " 12", "١٢"):
        assert body_length({**json_type, "CONTENT_LENGTH": refused}) is None, refused
    assert body_length({"CONTENT_LENGTH": "12"}) is None
    assert body_length({"CONTENT_TYPE": "text/json", "CONTENT_LENGTH": "12"}) is None
    assert body_length({**json_type, "CONTENT_LENGTH": "12",
                        "HTTP_TRANSFER_ENCODING": "chunked"}) is None


def test_only_sqlite_on_the_system_clock_has_it(tmp_path: Path) -> None:
    assert app_of(build_api(clock_mode="system")).fast_post is None  # the memory store
    simulated, system = (SqliteStore(str(tmp_path / f"{name}.db")) for name in ("a", "b"))
    try:
        assert app_of(build_api(store=simulated)).fast_post is None  # a simulated clock
        assert isinstance(app_of(build_api(store=system, clock_mode="system")).fast_post,
                          FastPost)
    finally:
        simulated.close()
        system.close()


WORKER = """
import sys
import falcon.testing
from engine import SimulatedClock, build
from engine.adapters.http import TokenAuth, create_app
from engine.adapters.storage.sqlite import SqliteStore
from http_world import START
path, token, sequence, first, count = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
with SqliteStore(path) as store:
    app = create_app(build(store, SimulatedClock(START)), auth=TokenAuth(store),
                     rate_limit=None, clock_mode="system")
    assert app.fast_post is not None
    client = falcon.testing.TestClient(app)
    for resource in range(first, first + count):
        answer = client.simulate_post("/v2/sequence_enrollments", headers={
            "Authorization": f"Bearer {token}"}, json={"data": {
            "sequence_id": sequence, "resource_type": "lead", "resource_id": resource}})
        print(resource, answer.status_code, flush=True)
"""


def test_two_processes_creating_for_the_same_resources_make_one_each(
        sqlite_world: tuple[Api, Path]) -> None:
    api, path = sqlite_world
    sequence = api.sequence()
    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parents[2]), str(here)])}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), api.tokens["rw"],
                                 str(sequence), str(first), "60"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for first in (1, 31)]  # resources 31-60 are asked for by both
    answers: dict[int, list[int]] = {}
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
        for line in out.decode().split("\n"):
            if line:
                resource, status = map(int, line.split())
                answers.setdefault(resource, []).append(status)
    assert sorted(answers) == list(range(1, 91))
    for resource, statuses in answers.items():
        assert sorted(statuses) == ([200, 422] if 31 <= resource <= 60 else [200]), resource
    assert sorted(e["resource_id"] for e in enrollments(api)) == list(range(1, 91))


def test_the_access_log_has_the_fast_answers_too(
        sqlite_world: tuple[Api, Path], caplog: pytest.LogCaptureFixture) -> None:
    api, _ = sqlite_world
    sequence = api.sequence()
    app = create_app(api.engine, auth=TokenAuth(api.engine.store), rate_limit=None,
                     clock_mode="system", access_log=True)
    assert isinstance(app, EngineApp) and app.fast_post is not None
    client = falcon.testing.TestClient(app)
    headers = {"Authorization": f"Bearer {api.tokens['rw']}"}
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        answers = [client.simulate_post(PATH, headers=headers, **create(sequence, n))
                   for n in (1, 1)]  # the second is refused: Falcon's path logs it
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [a.status_code for a in answers] == [200, 422]
    assert [(r.method, r.path, r.status) for r in lines] == [("POST", PATH, 200),
                                                            ("POST", PATH, 422)]
    assert [r.request_id for r in lines] == [a.headers["X-Request-Id"] for a in answers]
    assert all(r.duration_ms >= 0 for r in lines)
