"""Zendesk's Zapier integration for Sell, call for call (tests/e2e/zapier_app.py), against
a real server (granian, SQLite, simulated clock): its connection test, "Find
sequence" by name and by id, its dropdowns paging 100 at a time, its triggers
sorted `created_at:desc`, create enrollment, stop one and stop all.

Inputs are the integration's own (its test bundles and fixtures: the "Welcome
sequence", lead 1000, `sequence_ids: [2]` style lists) with integer ids, as Zapier
sends fields typed `integer`. The same calls with the ids as strings, as the app's
test bundles write them, are in `_test_zapier_rails_params.py` (they need Rails-style
parameters, issue 11 item 3).
"""

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_world import Client
from zapier_app import ZapierApp, ZapierError

# Zendesk's sequences.fixture.json: the two sequences' steps, as POST /v2/sequences takes them
WELCOME_STEPS = [
    {"delay_from_previous_step": delay, "delay_from_previous_step_unit": "weekdays",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": template, "is_reply": reply}}
    for delay, template, reply in ((0, 398744, False), (1, 398745, False), (1, 398746, False))
]
ANOTHER_STEPS = [
    {**step, "action_properties": {**step["action_properties"], "is_reply": position > 0}}
    for position, step in enumerate(WELCOME_STEPS)
]
LEAD = 1000  # the integration's test bundles' resource_id


@pytest.fixture(scope="module")
def zapier(server: Client) -> Iterator[ZapierApp]:
    yield ZapierApp(server.http, server.tokens["rw"])


@pytest.fixture(scope="module")
def catalog(server: Client) -> dict[str, int]:
    """The fixture's two sequences, a minute apart, then a second "Welcome sequence"."""
    made = {}
    for key, name, steps in (("welcome", "Welcome sequence", WELCOME_STEPS),
                             ("another", "Another test sequence", ANOTHER_STEPS),
                             ("welcome_again", "Welcome sequence", WELCOME_STEPS)):
        made[key] = server.ok(server.post("/v2/sequences", {"name": name, "steps": steps}))[
            "data"]["id"]
        server.advance(60)
    return made


def test_connection_check(zapier: ZapierApp, server: Client) -> None:
    me = zapier.test_connection()
    assert me["name"] == "Ann"  # the connection's label, `{{name}}`
    assert isinstance(me["id"], int) and "email" in me
    with pytest.raises(ZapierError) as refused:
        ZapierApp(server.http, "0" * 64).test_connection()
    assert refused.value.response.status_code == 401


def test_find_sequence_by_name(zapier: ZapierApp, catalog: dict[str, int]) -> None:
    me = zapier.test_connection()
    found = zapier.find_sequence({"search.id": None, "search.name": "Welcome sequence"})
    assert found == [
        {"id": catalog[key], "name": "Welcome sequence", "creator_id": me["id"]}
        for key in ("welcome", "welcome_again")
    ]
    assert zapier.find_sequence({"search.name": "Another test sequence"})[0]["id"] == catalog[
        "another"]
    assert zapier.find_sequence({"search.name": "No such sequence"}) == []
    assert zapier.find_sequence({"search.first_name": "Joe"}) == []  # no criteria: no call


def test_find_sequence_by_id(zapier: ZapierApp, catalog: dict[str, int]) -> None:
    [found] = zapier.find_sequence({"search.id": catalog["another"]})
    assert found["name"] == "Another test sequence"
    assert zapier.find_sequence({"search.id": 10**12}) == []  # a 404 is "none found"


def test_the_sequence_it_reads_has_sells_shape(server: Client, catalog: dict[str, int]) -> None:
    """The fields the app's sample (sequence.resource.ts) shows, in Sell's structure."""
    data = server.ok(server.get(f"/v2/sequences/{catalog['welcome']}"))["data"]
    assert list(data)[:7] == ["id", "name", "steps_total", "creator_id", "updated_at",
                              "created_at", "steps"]
    steps = data["steps"]["items"]
    assert data["steps"]["meta"] == {"type": "collection", "count": 3} and data["steps_total"] == 3
    assert [s["meta"]["type"] for s in steps] == ["step"] * 3
    assert [list(s["data"]) for s in steps] == 3 * [[
        "id", "action_type", "delay_from_previous_step", "delay_from_previous_step_unit",
        "position", "action_properties"]]
    assert len({s["data"]["id"] for s in steps}) == 3


def test_dropdowns_page_100_at_a_time(zapier: ZapierApp, server: Client,
                                      catalog: dict[str, int]) -> None:
    for n in range(101):
        server.ok(server.post("/v2/sequences", {"name": f"Bulk {n:03d}",
                                                "steps": WELCOME_STEPS[:1]}))
    first, second = zapier.dropdown("/v2/sequences", 1), zapier.dropdown("/v2/sequences", 2)
    assert len(first) == 100 and len(second) >= 4
    assert {"id": catalog["welcome"], "name": "Welcome sequence"} in first
    assert [c["name"] for c in second][-1] == "Bulk 100"
    assert len({c["id"] for c in first + second}) == len(first) + len(second)
    assert zapier.dropdown("/v2/sequences") == first  # Zapier's first load: page 1
    users = zapier.dropdown("/v2/users")
    assert [u["name"] for u in users] == ["Ann"]


def enroll(zapier: ZapierApp, sequence_id: int, resource_id: int, **more: Any) -> dict[str, Any]:
    return zapier.create_enrollment({"sequence_id": sequence_id, "resource_id": resource_id,
                                     "resource_type": "lead", **more})


def test_create_enrollment(zapier: ZapierApp, catalog: dict[str, int]) -> None:
    me = zapier.test_connection()
    created = enroll(zapier, catalog["welcome"], LEAD)
    assert (created["state"], created["resource_id"], created["actor_id"]) == (
        "active", LEAD, me["id"])
    assert created["sequence"]["data"]["id"] == catalog["welcome"]
    with_owner = enroll(zapier, catalog["another"], LEAD, actor_id=me["id"])
    assert with_owner["actor_id"] == me["id"]
    found = zapier.find_enrollment({"search.id": None, "search.resource_type": "lead",
                                    "search.resource_ids": LEAD})
    assert [e["id"] for e in found] == [created["id"], with_owner["id"]]
    assert zapier.find_enrollment({"search.id": created["id"]})[0]["id"] == created["id"]


def test_triggers_newest_first(zapier: ZapierApp, server: Client,
                               catalog: dict[str, int]) -> None:
    ids = [enroll(zapier, catalog["another"], lead)["id"] for lead in (2001, 2002, 2003)]
    for _ in ids:
        server.advance(1)
    newest = zapier.trigger("/v2/sequence_enrollments", "created_at", loading_sample=True)
    assert [e["id"] for e in newest[:3]] == ids[::-1]
    sequences = zapier.trigger("/v2/sequences", "created_at")
    assert sequences[0]["created_at"] >= sequences[-1]["created_at"]
    assert [s["id"] for s in sequences] == sorted((s["id"] for s in sequences), reverse=True)


def test_stop_one_enrollment(zapier: ZapierApp, catalog: dict[str, int]) -> None:
    created = enroll(zapier, catalog["welcome"], 3001)
    stopped = zapier.stop_enrollment({"id": created["id"], "state": "finished"})
    assert (stopped["id"], stopped["state"], stopped["finished_reason"]) == (
        created["id"], "finished", "manual")


def test_stop_all_and_stop_one_sequence(zapier: ZapierApp, catalog: dict[str, int]) -> None:
    lead = 4001
    for key in ("welcome", "another", "welcome_again"):
        enroll(zapier, catalog[key], lead)
    one = zapier.stop_all_enrollments({"resource_id": lead, "resource_type": "lead",
                                       "sequence_ids": [catalog["another"]]})
    assert one["enrollment_action"] == "finish_ongoing"
    assert [e["data"]["sequence"]["data"]["id"] for e in one["updated_enrollments"]["items"]] == [
        catalog["another"]]
    rest = zapier.stop_all_enrollments({"resource_id": lead, "resource_type": "lead"})
    assert {e["data"]["state"] for e in rest["updated_enrollments"]["items"]} == {"finished"}
    assert rest["updated_enrollments"]["meta"]["count"] == 2
    again = zapier.stop_all_enrollments({"resource_id": lead, "resource_type": "lead"})
    assert again["updated_enrollments"]["items"] == []
