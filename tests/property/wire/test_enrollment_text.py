"""The enrollment documents written from templates (engine.wire.enrollment_text) are
byte for byte what orjson makes of `enrollment_data`'s dicts, for any enrollment:
email and task steps, every status and reason, instants in any zone with and
without milliseconds, names and task contents with quotes, escapes and non-ASCII
text; also when a sequence is edited in place between two renders (its cached
text must not be reused) and when the same Step objects are shared."""

from __future__ import annotations

import datetime as dt

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.app.views import EnrollmentView
from engine.domain.enrollment import Enrollment, StepAction
from engine.domain.enums import (
    ActionStatus,
    ActionType,
    DelayUnit,
    EnrollmentState,
    FailureReason,
    FinishedReason,
    ResourceType,
)
from engine.domain.sequence import Sequence, Step, UnsubscribeSettings
from engine.wire import enrollment_data, enrollment_document, enrollment_list_document
from engine.wire.render import (
    ENROLLMENT_ACTION_META,
    ENROLLMENT_META,
    collection,
    finish_ongoing_document,
)

ids = st.integers(1, 2**63 - 1)
zones = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5)),
                         dt.timezone(dt.timedelta(hours=5, minutes=45))])
instants = st.builds(
    lambda t, micro, zone: t.replace(microsecond=micro, tzinfo=dt.UTC).astimezone(zone),
    st.datetimes(min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.sampled_from([0, 1, 999, 1000, 526_000, 999_999]),
    zones,
)
texts = st.text(st.characters(codec="utf-8"), max_size=20) | st.sampled_from(
    ['say "hi"', "back\\slash", "tab\tnew\nline", "\u2028", "żółw 🐢", "</script>"]
)


@st.composite
def steps(draw: st.DrawFn) -> tuple[Step, ...]:
    result = []
    for position in range(draw(st.integers(0, 4))):
        unit = draw(st.sampled_from(DelayUnit))
        delay = draw(st.integers(0, 2_610))
        if draw(st.booleans()):
            template = draw(st.none() | ids)
            result.append(Step(position, delay, unit, ActionType.AUTOMATED_EMAIL, template,
                               draw(st.booleans())))
        else:
            result.append(Step(position, delay, unit, ActionType.TASK,
                               task_content=draw(st.none() | texts)))
    return tuple(result)


actions = st.builds(
    StepAction,
    st.sampled_from(ActionStatus),
    st.none() | instants,
    st.none() | instants,
    st.none() | st.sampled_from(FailureReason),
    st.none() | ids,
)
sequences = st.builds(
    Sequence,
    id=ids,
    account_id=ids,
    name=texts,
    creator_id=ids,
    created_at=instants,
    updated_at=instants,
    steps=steps(),
    unsubscribe_settings=st.builds(UnsubscribeSettings, st.booleans(), texts),
)


@st.composite
def views(draw: st.DrawFn, sequence: Sequence | None = None) -> EnrollmentView:
    sequence = sequence or draw(sequences)
    own_steps = draw(st.just(sequence.steps) | steps())  # shared Steps, or a copy of its own
    created_at = draw(instants)
    enrollment = Enrollment(
        id=draw(ids),
        account_id=draw(ids),
        actor_id=draw(ids),
        sequence_id=sequence.id,
        resource_type=draw(st.sampled_from(ResourceType)),
        resource_id=draw(ids),
        created_at=created_at,
        updated_at=draw(st.just(created_at) | instants),  # a new enrollment's are one object
        started_at=draw(instants),
        steps=own_steps,
        actions=[draw(actions) for _ in own_steps],
        state=draw(st.sampled_from(EnrollmentState)),
        current_step_position=draw(st.integers(0, max(len(own_steps) - 1, 0))),
        finished_at=draw(st.none() | instants),
        finished_reason=draw(st.none() | st.sampled_from(FinishedReason)),
        finished_actor_id=draw(st.none() | ids),
    )
    overdue = draw(st.none() | st.integers(0, max(len(own_steps) - 1, 0)))
    return EnrollmentView(enrollment, sequence, overdue)


def from_dicts(view: EnrollmentView) -> bytes:
    return orjson.dumps({"data": enrollment_data(view), "meta": ENROLLMENT_META})


@settings(max_examples=4 * settings.default.max_examples)
@given(views())
def test_one_enrollment_is_what_orjson_makes_of_the_dicts(view: EnrollmentView) -> None:
    assert enrollment_document(view) == from_dicts(view)


@given(st.data(), sequences, st.lists(st.integers(0, 2), min_size=1, max_size=4))
def test_lists_and_a_sequence_edited_in_place_between_renders(
    data: st.DataObject, sequence: Sequence, edits: list[int]
) -> None:
    page = [data.draw(views(sequence)) for _ in range(3)]
    links = {"self": "http://x/v2/sequence_enrollments?per_page=3&page=1"}
    expected = orjson.dumps(collection([(enrollment_data(v), "sequence_enrollment")
                                        for v in page], links))
    assert enrollment_list_document(page, links) == expected
    for edit in edits:  # what catalog.update_sequence does to the same object
        if edit == 0:
            sequence.name = data.draw(texts)
        elif edit == 1:
            sequence.updated_at = data.draw(instants)
        else:
            sequence.unsubscribe_settings = UnsubscribeSettings(
                data.draw(st.booleans()), data.draw(texts))
        assert enrollment_document(page[0]) == from_dicts(page[0])
    items = [(enrollment_data(v), "sequence_enrollment") for v in page]
    assert finish_ongoing_document(page) == orjson.dumps({
        "data": {"enrollment_action": "finish_ongoing",
                 "updated_enrollments": collection(items, None)},
        "meta": ENROLLMENT_ACTION_META,
    })
