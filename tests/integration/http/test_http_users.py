"""/v2/users: the caller's own user, one user, and the account's users (never another
account's), with Sell's user attributes that the engine has."""

USER_KEYS = ["id", "name", "email", "status", "role", "time_zone", "created_at", "updated_at"]


def test_self_is_the_tokens_user(api):
    result = api.get("/v2/users/self")
    assert result.status_code == 200, result.text
    assert result.json == {
        "data": {"id": api.ids["user"], "name": "Ann", "email": None, "status": "active",
                 "role": "user", "time_zone": "UTC", "created_at": None, "updated_at": None},
        "meta": {"type": "user"},
    }
    assert list(result.json["data"]) == USER_KEYS
    assert api.get("/v2/users/self", as_="other").json["data"]["name"] == "Eve"


def test_one_user_of_the_account(api):
    api.engine.update_user(api.ids["colleague"], time_zone="Europe/Warsaw")
    result = api.get(f"/v2/users/{api.ids['colleague']}")
    assert result.status_code == 200, result.text
    assert (result.json["data"]["name"], result.json["data"]["time_zone"]) == (
        "Bob", "Europe/Warsaw")


def test_another_accounts_user_does_not_exist(api):
    for user_id in (api.ids["stranger"], 999):
        result = api.get(f"/v2/users/{user_id}")
        assert result.status_code == 404, result.text
        assert result.json["errors"][0]["error"]["code"] == "not_found"


def test_the_accounts_users_paged(api):
    everyone = api.get("/v2/users", params={"per_page": 100, "page": 1})
    assert everyone.status_code == 200, everyone.text
    assert [i["data"]["name"] for i in everyone.json["items"]] == ["Ann", "Bob"]
    assert {i["meta"]["type"] for i in everyone.json["items"]} == {"user"}
    first = api.get("/v2/users", params={"per_page": 1}).json
    assert [i["data"]["name"] for i in first["items"]] == ["Ann"]
    assert first["meta"]["links"]["next_page"].endswith("per_page=1&page=2")


def test_users_need_no_reach_but_do_need_a_token(api):
    assert api.get("/v2/users/self", as_="noreach").json["data"]["name"] == "Ned"
    assert api.get("/v2/users/self", as_=None).status_code == 401
    assert api.get("/v2/users/self", as_="write").status_code == 403  # no read scope
