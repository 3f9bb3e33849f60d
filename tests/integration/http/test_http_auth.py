"""Bearer tokens, scopes, Reach and token storage."""

import hashlib

import pytest

from engine.adapters.http import hash_token, issue_token, revoke_token

PROTECTED = [
    ("GET", "/v2/sequence_enrollments"), ("POST", "/v2/sequence_enrollments"),
    ("GET", "/v2/sequence_enrollments/1"), ("PUT", "/v2/sequence_enrollments/1"),
    ("POST", "/v2/sequence_enrollments/finish_ongoing_for_resource"),
    ("GET", "/v2/sequences"), ("POST", "/v2/sequences"), ("GET", "/v2/sequences/1"),
    ("PUT", "/v2/sequences/1"), ("GET", "/v2/tasks"), ("GET", "/v2/tasks/1"),
    ("PUT", "/v2/tasks/1"), ("DELETE", "/v2/tasks/1"), ("POST", "/engine/v1/events"),
    ("GET", "/engine/v1/clock"), ("POST", "/engine/v1/clock"), ("GET", "/engine/v1/outbox"),
    ("POST", "/engine/v1/outbox/failures"), ("DELETE", "/engine/v1/outbox/failures"),
]
BAD_HEADERS = {
    "missing": None,
    "empty": "",
    "not bearer": "Basic dXNlcjpwYXNz",
    "short": "Bearer abc123",
    "not hex": "Bearer " + "g" * 64,
    "too long": "Bearer " + "a" * 65,
    "no token": "Bearer ",
    "unknown": "Bearer " + "0" * 64,
}


def assert_401(result) -> None:
    assert result.status_code == 401
    assert result.json["errors"][0]["error"]["code"] == "unauthorized"
    assert result.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method,path", PROTECTED)
@pytest.mark.parametrize("case", list(BAD_HEADERS))
def test_every_protected_route_refuses_a_bad_token(api, method, path, case):
    header = BAD_HEADERS[case]
    headers = {} if header is None else {"Authorization": header}
    assert_401(api.call(method, path, as_=None, headers=headers))


def test_a_revoked_token_is_refused(api):
    assert api.get("/v2/sequences").status_code == 200
    assert revoke_token(api.engine.store, api.tokens["rw"]) is True
    assert_401(api.get("/v2/sequences"))
    assert revoke_token(api.engine.store, "0" * 64) is False
    assert revoke_token(api.engine.store, "not a token") is False


def test_the_bearer_scheme_and_hex_case_do_not_matter(api):
    token = api.tokens["rw"]
    header = {"Authorization": f"bearer {token.upper()}"}
    result = api.get("/v2/sequences", as_=None, headers=header)
    assert result.status_code == 200


@pytest.mark.parametrize("api", ["memory"], indirect=True)  # reads MemoryStore.tokens
def test_tokens_are_stored_only_as_hashes(api):
    store = api.engine.store
    for token in api.tokens.values():
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert hash_token(token) == digest
        assert token not in store.tokens
        assert store.tokens[digest].token_hash == digest


def test_issue_token_checks_its_arguments(api):
    with pytest.raises(ValueError):
        issue_token(api.engine.store, api.ids["user"], {"root"})
    with pytest.raises(ValueError):
        issue_token(api.engine.store, api.ids["user"], set())
    from engine.errors import NotFound

    with pytest.raises(NotFound):
        issue_token(api.engine.store, 999, {"read"})
    token = issue_token(api.engine.store, api.ids["colleague"], ["read"])
    assert len(token) == 64 and int(token, 16) >= 0


def test_a_read_token_cannot_write(api):
    result = api.post("/v2/sequences", {"name": "x", "steps": []}, as_="read")
    assert result.status_code == 403
    assert result.json["errors"][0]["error"]["code"] == "insufficient_scope"
    assert api.get("/v2/sequences", as_="read").json["meta"]["count"] == 0
    assert api.delete("/engine/v1/outbox/failures", as_="read").status_code == 403


def test_a_write_token_cannot_read(api):
    result = api.get("/v2/sequences", as_="write")
    assert result.status_code == 403
    assert result.json["errors"][0]["error"]["code"] == "insufficient_scope"
    assert api.post("/v2/sequences", {"name": "x", "steps": []}, as_="write").status_code == 200


@pytest.mark.parametrize("method,path,data", [
    ("GET", "/v2/sequence_enrollments", None),
    ("POST", "/v2/sequence_enrollments",
     {"sequence_id": 1, "resource_type": "lead", "resource_id": 1}),
    ("GET", "/v2/sequence_enrollments/1", None),
    ("PUT", "/v2/sequence_enrollments/1", {"state": "finished"}),
    ("POST", "/v2/sequence_enrollments/finish_ongoing_for_resource",
     {"resource_type": "lead", "resource_id": 1}),
    ("GET", "/v2/sequences", None),
    ("POST", "/v2/sequences", {"name": "x", "steps": []}),
    ("GET", "/v2/sequences/1", None),
    ("PUT", "/v2/sequences/1", {"name": "y"}),
    ("GET", "/v2/tasks", None),
    ("GET", "/v2/tasks/1", None),
    ("PUT", "/v2/tasks/1", {"completed": True}),
    ("DELETE", "/v2/tasks/1", None),
])
def test_an_account_without_reach_is_forbidden(api, method, path, data):
    kwargs = {} if data is None else {"json": {"data": data}}
    result = api.call(method, path, as_="noreach", **kwargs)
    assert result.status_code == 403
    assert result.json["errors"][0]["error"]["code"] == "forbidden"


def test_an_account_without_reach_still_reaches_the_extension(api):
    assert api.get("/engine/v1/clock", as_="noreach").status_code == 200
    assert api.get("/engine/v1/outbox", as_="noreach").status_code == 200
