"""Over SQLite a GET's token is checked in the read transaction its use case runs in
(engine/adapters/http/gate.py): a token revoked by another store or by plain SQL is
refused on the very next request, and no request, whatever its answer, leaves that
transaction open behind it."""

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from http_world import Api, build_api

from engine import in_memory
from engine.adapters.http import EngineGuard, RateLimit, TokenAuth, hash_token, revoke_token
from engine.adapters.http.app import shares_reads
from engine.adapters.storage.sqlite import SqliteStore

ENDS = {"BEGIN", "COMMIT", "ROLLBACK"}
GETS = ["/v2/sequence_enrollments", "/v2/sequences", "/v2/users/self", "/engine/v1/clock"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Api, Path]]:
    path = tmp_path / "shared.db"
    store = SqliteStore(str(path))
    try:
        yield build_api(store=store, rate_limit=RateLimit(limit=12, period=3600, burst=12)), path
    finally:
        store.close()


def transactions_during(store: SqliteStore, action: Callable[[], object]) -> list[str]:
    """The BEGIN, COMMIT and ROLLBACK statements the store's connections run."""
    seen: list[str] = []
    acquire = store.acquire

    def traced() -> sqlite3.Connection:
        conn = acquire()
        conn.set_trace_callback(
            lambda text: seen.append(text) if text.split(" ")[0] in ENDS else None)
        return conn

    store.acquire = traced  # type: ignore[method-assign]
    try:
        action()
    finally:
        store.acquire = acquire  # type: ignore[method-assign]
    return seen


def readers_block_a_checkpoint(path: Path) -> bool:
    """Whether some connection still holds a read snapshot of the database."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS probe (x)")  # a frame to copy back
        conn.execute("INSERT INTO probe VALUES (1)")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy)
    finally:
        conn.close()


def test_gets_share_their_transaction_only_where_reads_take_no_lock(world):
    api, _ = world
    assert shares_reads(api.engine, TokenAuth(api.engine.store),
                        EngineGuard.for_store(api.engine.store))
    memory = in_memory()
    assert not shares_reads(memory, TokenAuth(memory.store), EngineGuard.for_store(memory.store))
    assert not shares_reads(api.engine, TokenAuth(memory.store),
                            EngineGuard.for_store(api.engine.store))


def test_a_get_is_one_transaction_with_its_token_check(world):
    api, _ = world
    enrollment = api.enroll(api.sequence())
    path = f"/v2/sequence_enrollments/{enrollment['id']}"
    api.get(path)  # warms the catalog cache
    store = api.engine.store
    assert isinstance(store, SqliteStore)
    answers: list[int] = []
    # GET one answered again: its fast path's one autocommit statement, no transaction
    # (engine/adapters/http/fast_get.py); every other GET: one transaction
    assert transactions_during(store, lambda: answers.append(api.get(path).status_code)) == []
    assert transactions_during(store, lambda: answers.append(
        api.get(f"/v2/sequences/{enrollment['sequence']['data']['id']}").status_code)) == [
        "BEGIN", "ROLLBACK"]
    assert answers == [200, 200]
    full_page = "/v2/sequence_enrollments?per_page=1"  # full: a probe for the next one
    api.enroll(api.sequence(), resource_id=6)
    assert transactions_during(store, lambda: answers.append(api.get(full_page).status_code)) \
        == ["BEGIN", "ROLLBACK"]  # the page and its probe in one snapshot
    assert answers == [200, 200, 200]
    assert transactions_during(store, lambda: api.put(path, {"state": "finished"})) == [
        "BEGIN", "ROLLBACK", "BEGIN IMMEDIATE", "COMMIT"]  # writes: the check, then the write


@pytest.mark.parametrize("path", GETS)
def test_a_token_revoked_through_another_store_is_refused_next(world, path):
    api, db = world
    enrollment = api.enroll(api.sequence())
    assert api.get(f"/v2/sequence_enrollments/{enrollment['id']}").status_code == 200
    assert api.get(path).status_code == 200
    other = SqliteStore(str(db))
    try:
        assert revoke_token(other, api.tokens["rw"]) is True
    finally:
        other.close()
    refused = api.get(path)
    assert refused.status_code == 401
    assert refused.json["errors"][0]["error"]["code"] == "unauthorized"
    assert api.get(f"/v2/sequence_enrollments/{enrollment['id']}").status_code == 401
    assert api.get(path, as_="read").status_code == 200  # other tokens still work


def test_a_token_revoked_by_plain_sql_is_refused_next(world):
    api, db = world
    sequence_id = api.sequence()
    assert api.get(f"/v2/sequences/{sequence_id}").status_code == 200
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("UPDATE api_tokens SET revoked = 1 WHERE token_hash = ?",
                     (hash_token(api.tokens["rw"]),))
    finally:
        conn.close()
    assert api.get(f"/v2/sequences/{sequence_id}").status_code == 401
    assert api.post("/v2/sequence_enrollments", {
        "sequence_id": sequence_id, "resource_type": "lead", "resource_id": 1,
    }).status_code == 401


def test_no_answer_leaves_a_read_transaction_open(world):
    api, db = world
    answers = [
        api.get("/v2/sequences").status_code,                         # 200
        api.get("/v2/sequences/999999").status_code,                  # 404
        api.get("/v2/sequence_enrollments?per_page=0").status_code,   # 422 or 400
        api.get("/v2/sequences", as_="write").status_code,            # 403: no read scope
        api.get("/v2/sequences", as_=None,
                headers={"Authorization": "Bearer " + "0" * 64}).status_code,  # 401
        api.get("/v2/nowhere").status_code,                           # 404 before the gate
    ]
    while api.get("/v2/sequences").status_code != 429:                # the bucket of 12
        pass
    assert answers[0] == 200 and answers[1] == 404 and answers[3] == 403
    assert answers[4] == 401 and answers[5] == 404 and answers[2] >= 400
    assert not readers_block_a_checkpoint(db)
