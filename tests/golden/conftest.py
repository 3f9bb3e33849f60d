"""Golden-test helpers: the seed's examples (copied into tests/golden/seed/) and a
comparison that checks key order as well as equality."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SEED = Path(__file__).parent / "seed"


def load_seed(name: str) -> Any:
    return json.loads((SEED / f"{name}.json").read_text(encoding="utf-8"))


def key_orders(value: Any, at: str = "") -> list[tuple[str, list[str]]]:
    """Every object's key list, by JSON pointer, depth first."""
    found: list[tuple[str, list[str]]] = []
    if isinstance(value, dict):
        found.append((at or "/", list(value)))
        for key, item in value.items():
            found.extend(key_orders(item, f"{at}/{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(key_orders(item, f"{at}/{index}"))
    return found


def assert_same_json(actual: Any, expected: Any) -> None:
    assert actual == expected
    assert key_orders(actual) == key_orders(expected)


def with_deviations(document: Any, deviations: dict[str, tuple[Any, Any]]) -> Any:
    """The seed document with each documented deviation applied: `pointer: (seed value,
    our value)`. Asserts the seed really holds the value the deviation says it does."""
    patched = copy.deepcopy(document)
    for pointer, (seed_value, ours) in deviations.items():
        *parents, last = pointer.strip("/").split("/")
        node = patched
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert node[last] == seed_value, f"the seed has {node[last]!r} at {pointer}"
        node[last] = ours
    return patched


@pytest.fixture
def seed() -> Callable[[str], Any]:
    return load_seed


@pytest.fixture
def same_json() -> Callable[[Any, Any], None]:
    return assert_same_json


@pytest.fixture
def deviated() -> Callable[[Any, dict[str, tuple[Any, Any]]], Any]:
    return with_deviations
