"""Body fields of the /engine/v1 extension (events, clock, outbox failure rules).

The /v2 bodies are parsed by engine.wire.parse; these few follow its conventions:
every bad field of one request is reported together as one 422, each with a JSON
pointer, and unknown fields are refused.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from engine.errors import ErrorDetail, ValidationFailed
from engine.wire.fields import MAX_ID, id_value

E = TypeVar("E", bound=StrEnum)
_MISSING: Any = object()


def pointer(key: str) -> str:
    return "/data/" + key.replace("~", "~0").replace("/", "~1")


class Fields:
    """Reads fields of one `data` object, collecting every error."""

    def __init__(self, data: Mapping[str, Any], resource: str) -> None:
        self.data, self.resource = data, resource
        self.errors: list[ErrorDetail] = []

    def _absent(self, key: str) -> None:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            self.errors.append(ErrorDetail("missing", f"{key} is required", pointer(key)))
        else:
            self.errors.append(ErrorDetail("blank", f"{key} must not be blank", pointer(key)))

    def id(self, key: str) -> int:
        """An id as engine.wire.fields reads one (`3`, `3.0` or `"3"`)."""
        value = self.data.get(key)
        if type(value) is int and 1 <= value <= MAX_ID:
            return value
        if value is None or value == "":
            self._absent(key)
            return 0
        return id_value(value, pointer(key), self.errors)

    def position(self, key: str) -> int:
        """A step position: an integer from 0."""
        value = self.data.get(key)
        if type(value) is int and 0 <= value <= MAX_ID:
            return value
        if value is None:
            self._absent(key)
        elif type(value) is not int:
            self.errors.append(ErrorDetail("invalid_type", f"{key} must be an integer",
                                           f"/data/{key}"))
        else:
            self.errors.append(ErrorDetail("incorrect_value", f"{key} must be 0 or more",
                                           f"/data/{key}", f"got {value}"))
        return 0

    def choice(self, key: str, kind: type[E]) -> E | None:
        value = self.data.get(key)
        if value is None or value == "":
            self._absent(key)
            return None
        if type(value) is not str:
            self.errors.append(ErrorDetail("invalid_type", f"{key} must be a string",
                                           f"/data/{key}"))
            return None
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            self.errors.append(ErrorDetail("incorrect_value", f"{key} must be one of: {allowed}",
                                           f"/data/{key}"))
            return None

    def only(self, *known: str) -> None:
        for key in self.data:
            if key not in known:
                self.errors.append(ErrorDetail(
                    "unknown", f"unknown field {key!r}", pointer(key),
                    "allowed: " + ", ".join(sorted(known))))

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors, resource=self.resource)
