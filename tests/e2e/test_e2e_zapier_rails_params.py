"""The Zapier integration's calls with its test bundles' inputs verbatim: ids as JSON
strings ("2", "1000") and an optional field left blank (`"actor_id": ""`), which Sell's
Rails back end reads as integers and as absent (http-api.md section 4; issue 11
item 3). Before that reading was added they failed with 422 `invalid_type`.
"""

from collections.abc import Iterator

import pytest
from e2e_world import Client
from test_e2e_zapier import WELCOME_STEPS
from zapier_app import ZapierApp


@pytest.fixture(scope="module")
def zapier(server: Client) -> Iterator[ZapierApp]:
    yield ZapierApp(server.http, server.tokens["rw"])


@pytest.fixture(scope="module")
def sequences(server: Client) -> list[int]:
    return [server.ok(server.post("/v2/sequences", {"name": name, "steps": WELCOME_STEPS}))[
        "data"]["id"] for name in ("Welcome sequence", "Another test sequence")]


def test_create_with_string_ids(zapier: ZapierApp, sequences: list[int]) -> None:
    created = zapier.create_enrollment({"sequence_id": str(sequences[0]), "resource_id": "1000",
                                        "resource_type": "lead"})
    assert (created["resource_id"], created["sequence"]["data"]["id"]) == (1000, sequences[0])


def test_create_with_a_blank_owner(zapier: ZapierApp, sequences: list[int]) -> None:
    me = zapier.test_connection()
    created = zapier.create_enrollment({"sequence_id": str(sequences[1]), "resource_id": "1000",
                                        "resource_type": "lead", "actor_id": ""})
    assert created["actor_id"] == me["id"]  # blank: absent, so the token's user


def test_create_with_a_string_owner(zapier: ZapierApp, sequences: list[int]) -> None:
    me = zapier.test_connection()
    created = zapier.create_enrollment({"sequence_id": str(sequences[0]), "resource_id": "1001",
                                        "resource_type": "lead", "actor_id": str(me["id"])})
    assert created["actor_id"] == me["id"]


def test_stop_one_sequence_with_a_string_resource_id(zapier: ZapierApp,
                                                     sequences: list[int]) -> None:
    zapier.create_enrollment({"sequence_id": sequences[0], "resource_id": 1002,
                              "resource_type": "lead"})
    zapier.create_enrollment({"sequence_id": sequences[1], "resource_id": 1002,
                              "resource_type": "lead"})
    one = zapier.stop_all_enrollments({"resource_id": "1002", "resource_type": "lead",
                                       "sequence_ids": [sequences[1]]})
    assert [e["data"]["sequence"]["data"]["id"]
            for e in one["updated_enrollments"]["items"]] == [sequences[1]]


def test_stop_all_verbatim(zapier: ZapierApp, server: Client, sequences: list[int]) -> None:
    """enrollment.action.test.ts: `{resource_id: '1000', resource_type: 'lead'}`."""
    ongoing = {"resource_ids": "1000", "state": "active"}
    if not server.ok(server.get("/v2/sequence_enrollments", params=ongoing))["items"]:
        zapier.create_enrollment({"sequence_id": sequences[0], "resource_id": 1000,
                                  "resource_type": "lead"})
    done = zapier.stop_all_enrollments({"resource_id": "1000", "resource_type": "lead"})
    assert done["enrollment_action"] == "finish_ongoing"
    finished = done["updated_enrollments"]["items"]
    assert finished and {e["data"]["resource_id"] for e in finished} == {1000}
    assert server.ok(server.get("/v2/sequence_enrollments", params=ongoing))["items"] == []
