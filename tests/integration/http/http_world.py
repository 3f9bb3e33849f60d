"""Shared by the HTTP integration tests: the test world and its helpers."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import falcon
import falcon.testing

from engine import SequenceEngine, SimulatedClock, Step, build, in_memory
from engine.adapters.http import RateLimit, TokenAuth, create_app, issue_token
from engine.app.ports import Store
from engine.domain.enums import ActionType, DelayUnit

# Tuesday 2020-12-15T19:58:53.526Z: the seed's create example.
START = datetime(2020, 12, 15, 19, 58, 53, 526000, tzinfo=UTC)

EMAIL_STEPS = [
    {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "weekdays",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 9606, "is_reply": False}},
    {"delay_from_previous_step": 1, "delay_from_previous_step_unit": "weekdays",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 9607, "is_reply": False}},
]
TASK_STEPS = [
    {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "hours",
     "action_type": "task", "action_properties": {"task_content": "Call them"}},
    {"delay_from_previous_step": 1, "delay_from_previous_step_unit": "weekdays",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 7, "is_reply": True}},
]


@dataclass
class Api:
    """A test client with one default token; `as_=` picks another."""

    client: falcon.testing.TestClient
    tokens: dict[str, str]
    engine: SequenceEngine
    ids: dict[str, int] = field(default_factory=dict)

    def call(self, method: str, path: str, *, as_: str | None = "rw",
             headers: dict[str, str] | None = None, **kwargs: Any) -> falcon.testing.Result:
        sent = dict(headers or {})
        if as_ is not None:
            sent.setdefault("Authorization", f"Bearer {self.tokens[as_]}")
        if "body" in kwargs:  # raw bytes are JSON unless the test says otherwise
            sent.setdefault("Content-Type", "application/json")
        return self.client.simulate_request(method, path, headers=sent, **kwargs)

    def get(self, path: str, **kwargs: Any) -> falcon.testing.Result:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> falcon.testing.Result:
        if data is not None:
            kwargs["json"] = {"data": data}
        return self.call("POST", path, **kwargs)

    def put(self, path: str, data: Any = None, **kwargs: Any) -> falcon.testing.Result:
        if data is not None:
            kwargs["json"] = {"data": data}
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> falcon.testing.Result:
        return self.call("DELETE", path, **kwargs)

    # -- scenario helpers --

    def sequence(self, steps: list[dict[str, Any]] | None = None, as_: str = "rw",
                 name: str = "Warm approach after webinar") -> int:
        result = self.post("/v2/sequences", {"name": name, "steps": steps or EMAIL_STEPS},
                           as_=as_)
        assert result.status_code == 200, result.text
        found: int = result.json["data"]["id"]
        return found

    def enroll(self, sequence_id: int, resource_id: int = 5, as_: str = "rw",
               resource_type: str = "lead") -> dict[str, Any]:
        result = self.post("/v2/sequence_enrollments", {
            "sequence_id": sequence_id, "resource_type": resource_type,
            "resource_id": resource_id}, as_=as_)
        assert result.status_code == 200, result.text
        found: dict[str, Any] = result.json["data"]
        return found

    def advance(self, seconds: float = 0, as_: str = "rw") -> falcon.testing.Result:
        result = self.post("/engine/v1/clock", {"advance_seconds": seconds}, as_=as_)
        assert result.status_code == 200, result.text
        return result


def build_api(rate_limit: RateLimit | None = None,
              rate_clock: Callable[[], float] | None = None, store: Store | None = None,
              clock_mode: str = "simulated") -> Api:
    """The world on a fresh MemoryStore, or on `store` (empty) when given; the app's
    clock mode is `clock_mode` (the engine's clock is simulated either way)."""
    engine = in_memory(START) if store is None else build(store, SimulatedClock(START))
    ours = engine.create_account("acme")
    user = engine.create_user(ours.id, name="Ann")
    colleague = engine.create_user(ours.id, name="Bob")
    other = engine.create_account("globex")
    stranger = engine.create_user(other.id, name="Eve")
    no_reach = engine.create_account("initech", reach_enabled=False)
    lonely = engine.create_user(no_reach.id, name="Ned")
    store = engine.store
    tokens = {
        "rw": issue_token(store, user.id, {"read", "write", "admin"}),
        "read": issue_token(store, user.id, {"read"}),
        "write": issue_token(store, user.id, {"write"}),
        "other": issue_token(store, stranger.id),
        "noreach": issue_token(store, lonely.id),
    }
    options: dict[str, Any] = {} if rate_clock is None else {"rate_clock": rate_clock}
    app = create_app(engine, auth=TokenAuth(store), rate_limit=rate_limit,
                     clock_mode=clock_mode, **options)
    api = Api(falcon.testing.TestClient(app), tokens, engine)
    api.ids.update(account=ours.id, user=user.id, colleague=colleague.id, other=other.id,
                   stranger=stranger.id, no_reach=no_reach.id)
    return api


SEED_RESPONSE = Path(__file__).with_name("seed_create_response.json")


def seed_world(store: Store) -> SequenceEngine:
    """The world of the seed's create example on `store` (empty): its account, user
    2168016 and sequence 554, the clock at START."""
    engine = build(store, SimulatedClock(datetime(2020, 4, 9, 7, 35, 23, tzinfo=UTC)))
    account = engine.create_account("acme")
    engine.create_user(account.id, user_id=2168016)
    steps = [Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606),
             Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9607)]
    engine.create_sequence(account.id, name="Warm approach after webinar", steps=steps,
                           creator_id=2168016, sequence_id=554,
                           created_at=datetime(2020, 3, 31, 6, 17, 1, tzinfo=UTC))
    engine.advance(to=START)
    return engine


def seed_bytes() -> bytes:
    """The seed's create response as the server writes it (compact JSON)."""
    return json.dumps(json.loads(SEED_RESPONSE.read_text()), separators=(",", ":")).encode()


def assert_same_answer(a: falcon.testing.Result, b: falcon.testing.Result,
                       varying: frozenset[str] = frozenset({"x-request-id"})) -> None:
    """Two answers alike but for the `varying` headers (names in one order); an error's
    logref is its own request id."""
    assert a.status == b.status
    assert [name for name, _ in a.headers.items()] == [name for name, _ in b.headers.items()]
    assert {k: v for k, v in a.headers.items() if k not in varying} == \
        {k: v for k, v in b.headers.items() if k not in varying}
    if a.status_code == 200:
        assert a.content == b.content
    else:  # the request id is the error's logref
        assert a.json["errors"] == b.json["errors"]
        assert a.json["meta"]["http_status"] == b.json["meta"]["http_status"]
        assert a.json["meta"]["logref"] == a.headers["X-Request-Id"]
