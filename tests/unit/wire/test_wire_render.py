"""Rendering: task steps, overdue, tasks, sequences, collections, links, the outbox
and the error envelope."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine.wire.enrollment_text as texts
from engine import (
    ActionType,
    DelayUnit,
    FailureReason,
    FailureRule,
    ResourceType,
    SequenceEngine,
    Step,
    Task,
    in_memory,
)
from engine.app.ports import OutboxMessage
from engine.domain.sequence import MAX_SEQUENCE_ID, Sequence, UnsubscribeSettings
from engine.errors import (
    AlreadyExists,
    EngineError,
    ErrorDetail,
    InvalidPayload,
    NotFound,
    RateLimited,
    TransitionRefused,
    ValidationFailed,
)
from engine.timeline import calendar_for, task_overdue
from engine.wire import (
    collection,
    enrollment_data,
    error_document,
    finish_ongoing_document,
    format_instant,
    http_status_line,
    outbox_message_data,
    page_links,
    sequence_data,
    sequence_document,
    task_data,
    task_document,
    user_data,
    user_document,
)

TUESDAY = datetime(2020, 12, 15, 19, 58, 53, 526_000, tzinfo=UTC)
ACCOUNT, ACTOR = 1, 2168016
STEPS = [
    Step(0, 0, DelayUnit.WEEKDAYS, ActionType.AUTOMATED_EMAIL, 9606, True),
    Step(1, 2, DelayUnit.HOURS, ActionType.TASK, task_content="Call them"),
]


def world(**calendar: Any) -> SequenceEngine:
    engine = in_memory(start=TUESDAY)
    engine.create_account("Acme", account_id=ACCOUNT)
    engine.create_user(ACCOUNT, user_id=ACTOR, **calendar)
    engine.create_sequence(ACCOUNT, name="Mixed", steps=STEPS, creator_id=ACTOR, sequence_id=7)
    engine.enroll(ACCOUNT, sequence_id=7, resource_type="contact", resource_id=5,
                  actor_id=ACTOR, enrollment_id=1)
    return engine


def steps_of(engine: SequenceEngine) -> list[dict[str, Any]]:
    data = enrollment_data(engine.get_enrollment(ACCOUNT, 1))
    return [item["data"] for item in data["enrollment_steps"]["items"]]


def test_a_task_step_has_task_content_always_and_task_id_once_the_task_exists() -> None:
    engine = world()
    task_step = steps_of(engine)[1]
    assert task_step["action_properties"] == {"task_content": "Call them"}
    assert list(task_step["action"]["data"]) == [
        "status", "executed_at", "estimated_execute_at", "failure_reason", "task_content"]
    # planned from step 0's plan (milliseconds kept), then from its recorded execution
    assert task_step["action"]["data"]["estimated_execute_at"] == "2020-12-15T21:58:53.526Z"

    engine.advance(to=TUESDAY + timedelta(hours=3))
    action = steps_of(engine)[1]["action"]["data"]
    task_id = engine.list_tasks(ACCOUNT)[0].id
    assert action == {
        "status": "in_progress", "executed_at": None,
        "estimated_execute_at": "2020-12-15T21:58:53Z", "failure_reason": None,
        "task_content": "Call them", "task_id": task_id,
    }
    assert list(action)[-2:] == ["task_content", "task_id"]

    engine.update_task(ACCOUNT, task_id, completed=True)
    action = steps_of(engine)[1]["action"]["data"]
    assert (action["status"], action["executed_at"], action["estimated_execute_at"]) == (
        "completed", "2020-12-15T22:58:53Z", None)
    assert action["task_id"] == task_id


def test_an_email_step_has_neither_task_field() -> None:
    email = steps_of(world())[0]
    assert email["action_properties"] == {"email_template_id": 9606, "is_reply": True}
    assert list(email["action"]["data"]) == [
        "status", "executed_at", "estimated_execute_at", "failure_reason"]


def test_a_blocked_email_shows_its_failure_reason_and_is_overdue_after_the_grace() -> None:
    engine = world()
    engine.set_failure_rule(FailureRule(ACCOUNT, ResourceType.CONTACT, 5,
                                        FailureReason.RECIPIENT_INVALID))
    engine.advance(to=TUESDAY + timedelta(hours=2))
    data = enrollment_data(engine.get_enrollment(ACCOUNT, 1))
    assert data["state"] == "blocked"
    first, second = (item["data"] for item in data["enrollment_steps"]["items"])
    assert first["action"]["data"]["status"] == "blocked"
    assert first["action"]["data"]["failure_reason"] == "recipient_invalid"
    assert (first["overdue"], second["overdue"]) == (True, False)


def test_the_embedded_sequence_is_the_sequence_as_it_is_now() -> None:
    engine = world()
    engine.advance(seconds=60)
    engine.update_sequence(ACCOUNT, 7, name="Renamed", steps=STEPS[:1])
    data = enrollment_data(engine.get_enrollment(ACCOUNT, 1))
    assert data["sequence"]["data"]["name"] == "Renamed"
    assert data["sequence"]["data"]["steps_total"] == 1
    assert data["sequence"]["data"]["updated_at"] == "2020-12-15T19:59:53Z"
    assert data["enrollment_steps"]["meta"] == {"type": "collection", "count": 2}


def test_rendered_dicts_do_not_share_mutable_state_with_the_domain() -> None:
    engine = world()
    data = enrollment_data(engine.get_enrollment(ACCOUNT, 1))
    data["enrollment_steps"]["items"][0]["data"]["action_properties"]["is_reply"] = False
    assert engine.get_sequence(ACCOUNT, 7).steps[0].is_reply is True


# -- sequences -----------------------------------------------------------------------------


def test_sequence_data() -> None:
    """Sell's shape (Zendesk's fixtures): steps are a collection of `step`s with ids,
    before unsubscribe_settings; each step's keys in the fixture's order."""
    engine = world()
    data = sequence_data(engine.get_sequence(ACCOUNT, 7))
    assert data == {
        "id": 7, "name": "Mixed", "steps_total": 2, "creator_id": ACTOR,
        "updated_at": "2020-12-15T19:58:53Z", "created_at": "2020-12-15T19:58:53Z",
        "steps": {
            "items": [
                {"data": {"id": 7000, "action_type": "automated_email",
                          "delay_from_previous_step": 0,
                          "delay_from_previous_step_unit": "weekdays", "position": 0,
                          "action_properties": {"email_template_id": 9606, "is_reply": True}},
                 "meta": {"type": "step"}},
                {"data": {"id": 7001, "action_type": "task", "delay_from_previous_step": 2,
                          "delay_from_previous_step_unit": "hours", "position": 1,
                          "action_properties": {"task_content": "Call them"}},
                 "meta": {"type": "step"}},
            ],
            "meta": {"type": "collection", "count": 2},
        },
        "unsubscribe_settings": {"enabled": True, "locale": "en-US"},
    }
    assert list(data) == ["id", "name", "steps_total", "creator_id", "updated_at",
                          "created_at", "steps", "unsubscribe_settings"]
    assert [list(item["data"]) for item in data["steps"]["items"]] == 2 * [[
        "id", "action_type", "delay_from_previous_step", "delay_from_previous_step_unit",
        "position", "action_properties"]]
    assert json.loads(sequence_document(engine.get_sequence(ACCOUNT, 7))) == {
        "data": json.loads(json.dumps(data)), "meta": {"type": "sequence"}}


def test_step_ids_are_kept_where_a_position_survives_an_edit() -> None:
    engine = world()
    before = sequence_data(engine.get_sequence(ACCOUNT, 7))["steps"]["items"]
    engine.update_sequence(ACCOUNT, 7, steps=[*STEPS, Step(2, 1, DelayUnit.HOURS,
                                                          ActionType.TASK, task_content="x")])
    grown = sequence_data(engine.get_sequence(ACCOUNT, 7))["steps"]["items"]
    assert [s["data"]["id"] for s in grown] == [7000, 7001, 7002]
    assert grown[:2] == before
    engine.update_sequence(ACCOUNT, 7, steps=STEPS[:1])
    shrunk = sequence_data(engine.get_sequence(ACCOUNT, 7))["steps"]["items"]
    assert [s["data"]["id"] for s in shrunk] == [7000]


def test_step_ids_never_meet_across_sequences() -> None:
    engine = world()
    other = engine.create_sequence(ACCOUNT, name="Next", creator_id=ACTOR, steps=STEPS)
    ids = [s["data"]["id"] for q in (engine.get_sequence(ACCOUNT, 7), other)
           for s in sequence_data(q)["steps"]["items"]]
    assert len(set(ids)) == len(ids)


def test_sequences_whose_step_ids_would_not_fit_are_refused() -> None:
    engine = world()
    with pytest.raises(ValidationFailed) as too_big:
        engine.create_sequence(ACCOUNT, name="Big", creator_id=ACTOR, steps=STEPS,
                               sequence_id=MAX_SEQUENCE_ID + 1)
    assert too_big.value.errors[0].field == "/data/id"
    last = engine.create_sequence(ACCOUNT, name="Last", creator_id=ACTOR, steps=STEPS,
                                  sequence_id=MAX_SEQUENCE_ID)
    top = json.loads(sequence_document(last))["data"]["steps"]["items"][1]["data"]["id"]
    assert top == MAX_SEQUENCE_ID * 1000 + 1 <= 2**63 - 1
    many = [Step(p, 0, DelayUnit.HOURS, ActionType.TASK, task_content="x") for p in range(1000)]
    for attempt in (lambda: engine.create_sequence(ACCOUNT, name="Long", creator_id=ACTOR,
                                                   steps=many),
                    lambda: engine.update_sequence(ACCOUNT, 7, steps=many)):
        with pytest.raises(ValidationFailed) as too_long:
            attempt()
        assert too_long.value.errors[0].field == "/data/steps"
    assert engine.get_sequence(ACCOUNT, 7).steps_total == 2  # refused: nothing changed


def test_user_data() -> None:
    engine = world()
    data = user_data(engine.get_user(ACTOR))
    assert data == {"id": ACTOR, "name": "", "email": None, "status": "active",
                    "role": "user", "time_zone": "UTC", "created_at": None, "updated_at": None}
    assert list(data) == ["id", "name", "email", "status", "role", "time_zone", "created_at",
                          "updated_at"]
    assert json.loads(user_document(engine.get_user(ACTOR)))["meta"] == {"type": "user"}


# -- tasks ---------------------------------------------------------------------------------

UTC_CALENDAR = calendar_for()


def make_task(**changes: Any) -> Task:
    fields: dict[str, Any] = dict(
        id=3, account_id=1, creator_id=2, owner_id=4, resource_type=ResourceType.LEAD,
        resource_id=5, content="Call", due_date=datetime(2020, 12, 16, 10, 0, tzinfo=UTC),
        created_at=datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC),
        updated_at=datetime(2020, 12, 15, 19, 58, 53, tzinfo=UTC),
    )
    return Task(**{**fields, **changes})


def test_task_data() -> None:
    data = task_data(make_task(remind_at=datetime(2020, 12, 16, 9, tzinfo=UTC)),
                     datetime(2020, 12, 16, 23, 59, tzinfo=UTC), UTC_CALENDAR)
    assert data == {
        "id": 3, "creator_id": 2, "owner_id": 4, "resource_type": "lead", "resource_id": 5,
        "completed": False, "completed_at": None, "due_date": "2020-12-16T10:00:00Z",
        "overdue": False, "remind_at": "2020-12-16T09:00:00Z", "content": "Call",
        "created_at": "2020-12-15T19:58:53Z", "updated_at": "2020-12-15T19:58:53Z",
    }
    assert json.loads(task_document(make_task(), TUESDAY, UTC_CALENDAR))["meta"] == {
        "type": "task"}


@pytest.mark.parametrize(
    ("now", "completed", "zone", "overdue"),
    [
        (datetime(2020, 12, 16, 10, 1, tzinfo=UTC), False, "UTC", False),  # due today
        (datetime(2020, 12, 17, 0, 0, tzinfo=UTC), False, "UTC", True),  # the day is over
        (datetime(2020, 12, 17, 0, 0, tzinfo=UTC), True, "UTC", False),  # done in time
        (datetime(2020, 12, 17, 4, 59, tzinfo=UTC), False, "America/New_York", False),
        (datetime(2020, 12, 17, 5, 0, tzinfo=UTC), False, "America/New_York", True),
    ],
)
def test_task_overdue(now: datetime, completed: bool, zone: str, overdue: bool) -> None:
    task = make_task(completed=completed, completed_at=TUESDAY if completed else None)
    assert task_data(task, now, calendar_for(zone))["overdue"] is overdue


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                 timezones=st.just(UTC)),
    st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
    st.sampled_from(["UTC", "Europe/Warsaw", "America/Sao_Paulo", "Pacific/Kiritimati",
                     "America/Havana"]),
)
def test_a_task_is_overdue_exactly_when_its_step_would_be(
    due: datetime, later: timedelta, zone: str
) -> None:
    calendar = calendar_for(zone)
    now = due + later
    assert task_data(make_task(due_date=due), now, calendar)["overdue"] is task_overdue(
        now, due, calendar)


def test_a_task_created_by_a_step_renders() -> None:
    engine = world()
    engine.advance(to=TUESDAY + timedelta(hours=3))
    task = engine.list_tasks(ACCOUNT)[0]
    data = task_data(task, TUESDAY + timedelta(hours=3), UTC_CALENDAR)
    assert (data["content"], data["due_date"], data["owner_id"], data["resource_type"]) == (
        "Call them", "2020-12-15T21:58:53Z", ACTOR, "contact")


# -- collections, links, the outbox ---------------------------------------------------------


def test_collection_meta_orders() -> None:
    assert list(collection([], {"self": "u"})["meta"]) == ["count", "links", "type"]
    nested = collection([({"id": 1}, "thing")], None)
    assert nested == {"items": [{"data": {"id": 1}, "meta": {"type": "thing"}}],
                      "meta": {"type": "collection", "count": 1}}
    assert list(nested["meta"]) == ["type", "count"]


def test_finish_ongoing_with_nothing_to_finish() -> None:
    assert json.loads(finish_ongoing_document([])) == {
        "data": {"enrollment_action": "finish_ongoing",
                 "updated_enrollments": {"items": [], "meta": {"type": "collection",
                                                               "count": 0}}},
        "meta": {"type": "sequence_enrollment_action"},
    }


def test_page_links() -> None:
    base = "http://localhost/v2/sequence_enrollments"
    assert page_links(base, 1, 25, has_next=False) == {
        "self": f"{base}?per_page=25&page=1", "first_page": f"{base}?per_page=25&page=1"}
    assert page_links(f"{base}?ids=1,2", 3, 2, has_next=True) == {
        "self": f"{base}?ids=1,2&per_page=2&page=3",
        "first_page": f"{base}?ids=1,2&per_page=2&page=1",
        "prev_page": f"{base}?ids=1,2&per_page=2&page=2",
        "next_page": f"{base}?ids=1,2&per_page=2&page=4",
    }


def test_outbox_message_data() -> None:
    message = OutboxMessage("1:0:0", 1, 1, 0, 9606, False, ACTOR, ResourceType.LEAD, 5, TUESDAY)
    assert outbox_message_data(message) == {
        "idempotency_key": "1:0:0", "account_id": 1, "enrollment_id": 1, "position": 0,
        "actor_id": ACTOR, "resource_type": "lead", "resource_id": 5, "email_template_id": 9606,
        "is_reply": False, "sent_at": "2020-12-15T19:58:53.526Z",
    }


# -- errors ----------------------------------------------------------------------------------


def test_error_document_has_one_item_per_detail() -> None:
    error = ValidationFailed(
        [ErrorDetail("missing", "resource_id is required", "/data/resource_id"),
         ErrorDetail("incorrect_value", "resource_type must be one of: lead, contact",
                     "/data/resource_type", 'got "deal"')],
        resource="sequence_enrollment")
    document = json.loads(error_document(error, "d8b4c7d0-0000-4000-8000-000000000000"))
    assert document == {
        "errors": [
            {"error": {"code": "missing", "message": "resource_id is required", "details": None,
                       "resource": "sequence_enrollment", "field": "/data/resource_id"},
             "meta": {"type": "error"}},
            {"error": {"code": "incorrect_value",
                       "message": "resource_type must be one of: lead, contact",
                       "details": 'got "deal"', "resource": "sequence_enrollment",
                       "field": "/data/resource_type"},
             "meta": {"type": "error"}},
        ],
        "meta": {"type": "errors", "http_status": "422 Unprocessable Entity",
                 "logref": "d8b4c7d0-0000-4000-8000-000000000000"},
    }
    assert list(document["errors"][0]["error"]) == [
        "code", "message", "details", "resource", "field"]
    assert list(document["meta"]) == ["type", "http_status", "logref"]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidPayload("the request body is not valid JSON"), "400 Bad Request",
         "invalid_payload"),
        (NotFound("sequence_enrollment", 9), "404 Not Found", "not_found"),
        (RateLimited("slow down", retry_after=3), "429 Too Many Requests",
         "rate_limit_exceeded"),
        (AlreadyExists("lead 5 already has one", "/data/resource_id"),
         "422 Unprocessable Entity", "already_exists"),
        (TransitionRefused("enrollment", "finished", "become active", ()),
         "422 Unprocessable Entity", "incorrect_value"),
        (EngineError("boom"), "500 Internal Server Error", "server_error"),
    ],
)
def test_error_document_status_lines(error: EngineError, status: str, code: str) -> None:
    document = json.loads(error_document(error, "ref"))
    assert document["meta"]["http_status"] == status
    assert [item["error"]["code"] for item in document["errors"]] == [code]


def test_not_found_names_its_resource() -> None:
    item = json.loads(error_document(NotFound("task", 4), "ref"))["errors"][0]["error"]
    assert (item["resource"], item["message"], item["field"]) == ("task", "task 4 not found", None)


def test_an_unknown_status_keeps_its_number() -> None:
    assert http_status_line(299) == "299"
    assert http_status_line(422) == "422 Unprocessable Entity"


def test_format_instant_is_what_every_render_uses() -> None:
    assert format_instant(TUESDAY) == "2020-12-15T19:58:53.526Z"


def test_a_steps_text_is_kept_by_the_step_and_the_table_is_bounded() -> None:
    """texts._STEPS keeps each step's text under its id (checked against the
    step itself on every read) and holds at most _CACHE_SIZE steps, emptied when full.
    Kills _step_text's `_STEPS[id(step)] = None`, `_STEPS[id(None)] = entry` and
    `len(_STEPS) > _CACHE_SIZE`."""
    texts._STEPS.clear()
    steps = [Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 501, False)
             for _ in range(texts._CACHE_SIZE + 1)]  # alive: their ids differ
    sizes = set()
    for step in steps:
        entry = texts._step_text(step)
        assert texts._STEPS[id(step)] is entry and entry[0] is step
        sizes.add(len(texts._STEPS))
    assert max(sizes) == texts._CACHE_SIZE and len(texts._STEPS) == 1


def test_a_sequences_text_is_kept_until_it_changes_and_the_table_is_bounded() -> None:
    """wire.enrollment_text._SEQUENCES keeps each sequence's text under its id with the
    values it was made from: the same text object comes back until one of them
    changes, and the table holds at most _CACHE_SIZE (emptied when full). The table
    is emptied first: a sequence another test rendered would hide the first render.
    Kills sequence_text's `kept = None`, `get(None)`, `kept is None and ...`,
    `kept[1] == values`, `= None` and `len(_SEQUENCES) > _CACHE_SIZE`."""
    texts._SEQUENCES.clear()
    settings = UnsubscribeSettings(False, "pl-PL")
    steps = (Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 501, False),)

    def sequence(sequence_id: int, name: str = "s") -> Sequence:
        return Sequence(sequence_id, 1, name, 10, TUESDAY, TUESDAY, steps, settings)

    first = texts.sequence_text(sequence(1))
    assert json.loads(first)["name"] == "s"
    assert texts.sequence_text(sequence(1)) is first
    assert json.loads(texts.sequence_text(sequence(1, "t")))["name"] == "t"
    sizes = set()
    for sequence_id in range(2, texts._CACHE_SIZE + 2):
        texts.sequence_text(sequence(sequence_id))
        sizes.add(len(texts._SEQUENCES))
    assert max(sizes) == texts._CACHE_SIZE and len(texts._SEQUENCES) == 1


def test_an_enrollment_text_uses_its_steps_kept_text_only_when_it_is_theirs() -> None:
    """Each step's text is looked up in wire.enrollment_text._STEPS by the step's id
    and used when it was made from that very step; an entry left by another step
    object under the same id (ids are reused once an object is gone) is made again.
    Kills enrollment_text's lookups that miss (`kept = None`, `get(None)`,
    `get(id(None))`, `kept[1] is not step`) and `kept[0] is step`."""
    view = world().get_enrollment(ACCOUNT, 1)
    first, second = view.enrollment.steps
    marked = texts._step_text(first)
    texts._STEPS[id(first)] = (first, marked[1] + " ", marked[2] + " ", marked[3])
    other = Step(5, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False)
    texts._STEPS[id(second)] = texts._step_text(other)  # another step's, under its id
    data = json.loads(texts.enrollment_text(view))
    statuses = [item["data"]["action"]["data"]["status"]
                for item in data["enrollment_steps"]["items"]]
    assert statuses == [" scheduled", "scheduled"]  # the kept text, as it was kept
    assert data["enrollment_steps"]["items"][1]["data"]["action_type"] == "task"


def test_an_enrollment_with_an_action_per_step_missing_is_refused_as_in_enrollment_data() -> None:
    """Steps and actions go together (zip strict): one short is a ValueError from both
    renderings. Kills enrollment_text's length check mutants (`==`, `list(None)`,
    `zip(None, ...)`, a `zip` of one, not strict)."""
    view = world().get_enrollment(ACCOUNT, 1)
    view.enrollment.actions.pop()
    with pytest.raises(ValueError, match="zip"):
        enrollment_data(view)
    with pytest.raises(ValueError, match="zip"):
        texts.enrollment_text(view)
