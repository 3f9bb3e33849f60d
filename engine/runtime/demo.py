"""`seqengine demo`: an account, a user, a token and two sequences to try the API with.

Run again on the same database, it reuses what it made: the ids are kept as the
idempotent result of the demo set-up (in the store's idempotent responses, under
account 0, which no real account has), so the README's ids stay valid. A token is
shown once, so each run issues a new one for the same demo user; earlier demo
tokens stay valid until revoked (`seqengine tokens revoke`).
"""

import json
from dataclasses import asdict, dataclass
from itertools import count

from engine.app.ports import StoredResponse
from engine.app.service import SequenceEngine
from engine.domain.enums import ActionType, DelayUnit
from engine.domain.sequence import Step
from engine.errors import NotFound

WEBINAR = (
    Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606, False),
    Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9607, False),
)
CALL_FIRST = (
    Step(0, 2, DelayUnit.HOURS, ActionType.TASK, task_content="Research the lead, then call"),
    Step(1, 1, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9608, True),
)
DEMO_SCOPES = frozenset({"read", "write", "admin"})
RECORD_ACCOUNT = 0  # no account has id 0
RECORD_KEY = "seqengine demo {}"  # numbered: a later record replaces one whose objects are gone


@dataclass(frozen=True, slots=True)
class DemoIds:
    account_id: int
    user_id: int
    sequence_ids: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Demo:
    ids: DemoIds
    reused: bool
    token: str


def ensure_demo(engine: SequenceEngine) -> Demo:
    """The demo objects (made now, or found from an earlier run) and a new token."""
    from engine.adapters.http.tokens import issue_token

    for generation in count(1):
        key = RECORD_KEY.format(generation)
        with engine.store.unit_of_work(read_only=True) as uow:
            recorded = uow.get_idempotent(RECORD_ACCOUNT, key)
        if recorded is None:
            ids, reused = _record(engine, key, _create(engine)), False
            break
        ids = _decode(recorded.body)
        if _still_there(engine, ids):
            reused = True
            break
    token = issue_token(engine.store, ids.user_id, DEMO_SCOPES)
    return Demo(ids, reused, token)


def _create(engine: SequenceEngine) -> DemoIds:
    account = engine.create_account("Demo account")
    user = engine.create_user(account.id, name="Demo user")
    webinar = engine.create_sequence(
        account.id, name="Warm approach after webinar", steps=WEBINAR, creator_id=user.id
    )
    call_first = engine.create_sequence(
        account.id, name="Call first", steps=CALL_FIRST, creator_id=user.id
    )
    return DemoIds(account.id, user.id, (webinar.id, call_first.id))


def _record(engine: SequenceEngine, key: str, ids: DemoIds) -> DemoIds:
    """Keep `ids` under `key`; if another demo run got there first, its ids win."""
    with engine.store.unit_of_work() as uow:
        uow.save_idempotent(RECORD_ACCOUNT, key, StoredResponse(200, json.dumps(asdict(ids))
                                                                .encode()))
        uow.commit()
    with engine.store.unit_of_work(read_only=True) as uow:
        kept = uow.get_idempotent(RECORD_ACCOUNT, key)
    return _decode(kept.body) if kept is not None else ids


def _decode(body: bytes) -> DemoIds:
    found = json.loads(body)
    return DemoIds(found["account_id"], found["user_id"], tuple(found["sequence_ids"]))


def _still_there(engine: SequenceEngine, ids: DemoIds) -> bool:
    try:
        user = engine.get_user(ids.user_id)
        for sequence_id in ids.sequence_ids:
            engine.get_sequence(ids.account_id, sequence_id)
    except NotFound:
        return False
    return user.account_id == ids.account_id


def howto(demo: Demo, base_url: str, database: str) -> str:
    """What `demo` prints: the ids, the token as an export line, and curl commands."""
    ids = demo.ids
    first, second = ids.sequence_ids
    auth = '-H "Authorization: Bearer $TOKEN"'
    json_type = '-H "Content-Type: application/json"'
    lead = '"resource_id": 12866615, "resource_type": "lead"'
    return "\n".join([
        f"Demo account {ids.account_id}, user {ids.user_id}, sequences {first} "
        f"(Warm approach after webinar) and {second} (Call first), "
        f"{'reused from' if demo.reused else 'created in'} {database}.",
        f"A new token for user {ids.user_id} (scopes {', '.join(sorted(DEMO_SCOPES))}; "
        "shown once). Set it in your shell:",
        "",
        f"  export TOKEN={demo.token}",
        "",
        f"Enroll a lead in sequence {first}:",
        f"  curl -s -X POST {base_url}/v2/sequence_enrollments {auth} {json_type} \\",
        f"    -d '{{\"data\": {{\"sequence_id\": {first}, {lead}}}}}'",
        "List enrollments:",
        f"  curl -s {base_url}/v2/sequence_enrollments {auth}",
        "Finish the lead's ongoing enrollments:",
        f"  curl -s -X POST {base_url}/v2/sequence_enrollments/finish_ongoing_for_resource "
        f"{auth} {json_type} \\",
        f"    -d '{{\"data\": {{{lead}}}}}'",
        f"API docs: {base_url}/docs",
    ])
