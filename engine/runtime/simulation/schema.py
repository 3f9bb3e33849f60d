"""Typed reads of a parsed YAML document, each naming its location on failure.

A scenario is checked by reading it: every reader takes the value and its
location (`actors[1].time_zone`) and either returns a typed value or raises
ScenarioError with one sentence that names the location and what was expected.
"""

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from engine.errors import EngineError


class ScenarioError(EngineError):
    """A scenario that cannot run: one sentence naming where and why."""

    status, code = 400, "invalid_scenario"


def mapping(
    value: Any, at: str, allowed: Collection[str], required: Collection[str] = ()
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{at} must be a mapping, got {_shown(value)}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise ScenarioError(
            f"{at}.{unknown[0]} is not a known key (expected one of: {', '.join(sorted(allowed))})"
        )
    missing = sorted(k for k in required if k not in value)
    if missing:
        raise ScenarioError(f"{at}.{missing[0]} is required")
    return dict(value)


def sequence_of(value: Any, at: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"{at} must be a non-empty list, got {_shown(value)}")
    return value


def text(value: Any, at: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{at} must be a non-empty string, got {_shown(value)}")
    return value


def integer(value: Any, at: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioError(f"{at} must be an integer >= {minimum}, got {_shown(value)}")
    return value


def number(value: Any, at: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ScenarioError(f"{at} must be a number >= {minimum:g}, got {_shown(value)}")
    return float(value)


def probability(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ScenarioError(f"{at} must be a probability between 0 and 1, got {_shown(value)}")
    return float(value)


def instant(value: Any, at: str) -> datetime:
    """An ISO 8601 instant with an offset (YAML may already have parsed it)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError(
                f"{at} must be an ISO 8601 instant like 2026-03-02T08:00:00Z, got {value!r}"
            ) from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ScenarioError(
            f"{at} must be an ISO 8601 instant with a time zone offset (e.g. ...Z), "
            f"got {_shown(value)}"
        )
    return value.astimezone(UTC)


def weights(value: Any, at: str, names: list[str]) -> dict[str, float]:
    """A mapping name -> relative weight over known names; at least one weight above 0."""
    found = mapping(value, at, set(names))
    read = {str(k): number(v, f"{at}.{k}") for k, v in found.items()}
    if not any(read.values()):
        raise ScenarioError(f"{at} needs at least one weight above 0")
    return read


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."
