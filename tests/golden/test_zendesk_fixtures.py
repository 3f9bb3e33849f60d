"""Zendesk's own fixture of Sell's `GET /v2/sequences` response (published with its
Zapier integration, zendesk/zendesk-sell-for-zapier,
`src/engage/sequences/__test__/sequences.fixture.json`, copied into
tests/golden/zendesk/), reproduced with its values by the engine.

Where ours knowingly differs (docs/compatibility.md) the expected document is the
fixture with that difference applied, and the test asserts the fixture holds what
the difference says it replaces:
- step ids are derived from the sequence id and the position (`21123 * 1000 + 0`),
  not Sell's global step counter (2594755);
- `unsubscribe_settings` follows `steps`, as the seed shows it on every sequence;
- a top-level list carries paging links (`count, links, type`), as every list here.
"""

import copy
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from engine import ActionType, DelayUnit, SequenceEngine, Step, in_memory
from engine.wire import page_links, sequence_document, sequence_list_document

FIXTURE = Path(__file__).parent / "zendesk" / "sequences.fixture.json"
ACCOUNT, CREATOR = 1, 1700155
BASE = "http://127.0.0.1:8000/v2/sequences"
Same = Callable[[Any, Any], None]


def fixture() -> Any:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def zendesk_world() -> SequenceEngine:
    """The two sequences of the fixture, created at the instants it shows."""
    engine = in_memory(start=at("2020-06-03T11:06:30Z"))
    engine.create_account("Zendesk", account_id=ACCOUNT)
    engine.create_user(ACCOUNT, user_id=CREATOR)
    for sequence_id, name, replies, created in (
        (21123, "Welcome sequence", (False, False, False), "2020-06-03T11:06:30Z"),
        (21124, "Another test sequence", (False, True, True), "2020-06-03T11:08:12Z"),
    ):
        engine.advance(to=at(created))
        engine.create_sequence(ACCOUNT, name=name, creator_id=CREATOR, sequence_id=sequence_id,
                               created_at=at(created), steps=[
            Step(p, min(p, 1), DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 398744 + p,
                 replies[p])
            for p in range(3)
        ])
    return engine


def with_our_differences(item: Any) -> Any:
    ours = copy.deepcopy(item)
    data = ours["data"]
    for step in data["steps"]["items"]:
        assert step["data"]["id"] > 2_500_000  # Sell's global counter
        step["data"]["id"] = data["id"] * 1000 + step["data"]["position"]
    assert "unsubscribe_settings" not in data
    data["unsubscribe_settings"] = {"enabled": True, "locale": "en-US"}
    return ours


def test_the_list_reproduces_zendesks_fixture(same_json: Same) -> None:
    engine = zendesk_world()
    links = page_links(BASE, 1, 25, False)
    ours = json.loads(sequence_list_document(engine.list_sequences(ACCOUNT), links))
    expected = fixture()
    same_json(ours["items"], [with_our_differences(i) for i in expected["items"]])
    assert expected["meta"] == {"type": "collection", "count": 2}
    same_json(ours["meta"], {"count": 2, "links": links, "type": "collection"})


def test_one_sequence_is_the_fixtures_item(same_json: Same) -> None:
    """`GET /v2/sequences/21123`: the fixture's first item as a single document."""
    engine = zendesk_world()
    ours = json.loads(sequence_document(engine.get_sequence(ACCOUNT, 21123)))
    same_json(ours, with_our_differences(fixture()["items"][0]))


def test_the_fixtures_key_structure_is_ours_exactly() -> None:
    """Apart from the added unsubscribe_settings, every object has the fixture's keys
    in the fixture's order, whatever the values."""
    engine = zendesk_world()
    ours = json.loads(sequence_document(engine.get_sequence(ACCOUNT, 21124)))["data"]
    theirs = fixture()["items"][1]["data"]
    assert list(ours) == [*theirs, "unsubscribe_settings"]
    assert list(ours["steps"]) == list(theirs["steps"])
    assert list(ours["steps"]["meta"]) == list(theirs["steps"]["meta"])
    for mine, zendesk in zip(ours["steps"]["items"], theirs["steps"]["items"], strict=True):
        assert list(mine) == list(zendesk)
        assert list(mine["data"]) == list(zendesk["data"])
        assert list(mine["data"]["action_properties"]) == list(zendesk["data"]["action_properties"])
