"""The official Sell/Base Python client (basecrm 1.2.9, over requests) against our
server on a real loopback socket: it has no sequence enrollment service, so the
enrollment calls go through its generic `http_client`, which wraps bodies in
`{"data": ...}` and unwraps answers into Munch objects, as it does for Sell."""

import basecrm
import pytest
from basecrm.errors import RequestError, ResourceError
from http_world import TASK_STEPS

ENROLLMENT_KEYS = ["id", "actor_id", "resource_type", "resource_id", "created_at",
                   "updated_at", "sequence", "state", "current_step_position",
                   "enrollment_steps", "finished_at", "finished_reason", "finished_actor_id"]


@pytest.fixture
def world(loopback):
    return loopback()


@pytest.fixture
def base(world):
    return basecrm.Client(access_token=world.api.tokens["rw"], base_url=world.base_url)


def test_create_get_list_and_finish(world, base):
    sequence_id = world.sequence(name="Warm approach after webinar")
    status, headers, created = base.http_client.post("/sequence_enrollments", body={
        "sequence_id": sequence_id, "resource_type": "lead", "resource_id": 12866615})
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert list(created) == ENROLLMENT_KEYS
    assert (created.state, created.resource_type, created.actor_id) == (
        "active", "lead", world.api.ids["user"])
    assert created.created_at == "2020-12-15T19:58:53Z"
    assert created.sequence.meta.type == "sequence"
    assert created.sequence.data.name == "Warm approach after webinar"
    steps = created.enrollment_steps["items"]  # `.items` is the dict method on a Munch
    assert created.enrollment_steps.meta.count == len(steps) == 2
    assert steps[0].data.action.data.estimated_execute_at == "2020-12-15T19:58:53.526Z"
    assert steps[1].data.action_properties.email_template_id == 9607

    _, _, got = base.http_client.get(f"/sequence_enrollments/{created.id}")
    assert got == created
    _, _, listed = base.http_client.get("/sequence_enrollments", params={
        "resource_type": "lead", "resource_ids": "12866615", "per_page": 10})
    assert listed == [created]

    _, _, finished = base.http_client.put(f"/sequence_enrollments/{created.id}",
                                          body={"state": "finished"})
    assert (finished.state, finished.finished_reason, finished.finished_actor_id) == (
        "finished", "manual", world.api.ids["user"])
    assert {s.data.action.data.status for s in finished.enrollment_steps["items"]} == {
        "cancelled"}


def test_resume_a_blocked_enrollment(world, base):
    world.fail_sends_to(31)
    _, _, created = base.http_client.post("/sequence_enrollments", body={
        "sequence_id": world.sequence(), "resource_type": "lead", "resource_id": 31})
    world.advance(1)
    _, _, blocked = base.http_client.get(f"/sequence_enrollments/{created.id}")
    action = blocked.enrollment_steps["items"][0].data.action.data
    assert (blocked.state, action.status, action.failure_reason) == (
        "blocked", "blocked", "recipient_invalid")
    world.clear_failures()
    _, _, resumed = base.http_client.put(f"/sequence_enrollments/{created.id}",
                                         body={"state": "active"})
    assert resumed.state == "active"
    assert resumed.enrollment_steps["items"][0].data.action.data.status == "scheduled"


def test_finish_ongoing_for_resource(world, base):
    first, second = world.sequence(), world.sequence()
    ids = [base.http_client.post("/sequence_enrollments", body={
        "sequence_id": s, "resource_type": "lead", "resource_id": 5})[2].id
        for s in (first, second)]
    _, _, action = base.http_client.post(
        "/sequence_enrollments/finish_ongoing_for_resource",
        body={"resource_type": "lead", "resource_id": 5, "sequence_ids": [second]})
    assert action.enrollment_action == "finish_ongoing"
    [finished] = action.updated_enrollments["items"]
    assert (finished.data.id, finished.data.state) == (ids[1], "finished")
    assert action.updated_enrollments.meta == {"type": "collection", "count": 1}
    _, _, rest = base.http_client.post("/sequence_enrollments/finish_ongoing_for_resource",
                                       body={"resource_type": "lead", "resource_id": 5})
    assert [e.data.id for e in rest.updated_enrollments["items"]] == [ids[0]]


def test_tasks_service(world, base):
    _, _, enrollment = base.http_client.post("/sequence_enrollments", body={
        "sequence_id": world.sequence(TASK_STEPS), "resource_type": "lead", "resource_id": 8})
    world.advance(1)
    [task] = base.tasks.list(resource_type="lead", resource_id=8, completed=False)
    assert (task.content, task.completed, task.resource_id) == ("Call them", False, 8)
    assert base.tasks.retrieve(task.id) == task
    done = base.tasks.update(task.id, completed=True)
    assert (done.completed, done.completed_at) == (True, "2020-12-15T19:58:54Z")
    _, _, moved_on = base.http_client.get(f"/sequence_enrollments/{enrollment.id}")
    assert moved_on.current_step_position == 1
    assert base.tasks.destroy(task.id) is True
    assert base.tasks.list() == []


def test_errors_come_back_as_basecrm_errors(world, base):
    with pytest.raises(RequestError) as missing:
        base.http_client.get("/sequence_enrollments/424242")
    assert missing.value.http_status == 404
    assert missing.value.errors[0].code == "not_found"
    assert missing.value.logref
    with pytest.raises(ResourceError) as invalid:
        base.http_client.post("/sequence_enrollments", body={"resource_type": "deal"})
    assert {e.field for e in invalid.value.errors} == {
        "/data/sequence_id", "/data/resource_type", "/data/resource_id"}


def test_a_retrieved_task_updated_back_as_is(world, base):
    base.http_client.post("/sequence_enrollments", body={
        "sequence_id": world.sequence(TASK_STEPS), "resource_type": "lead", "resource_id": 8})
    world.advance(1)
    [task] = base.tasks.list()
    task.completed = True
    assert base.tasks.update(task.id, task).completed is True


def test_users_service_connection_check(world, base):
    """basecrm's own UsersService: self (a connection check), retrieve and list."""
    me = base.users.self()
    assert (me.id, me.name, me.status, me.role) == (world.api.ids["user"], "Ann", "active",
                                                     "user")
    assert base.users.retrieve(world.api.ids["colleague"]).name == "Bob"
    assert [u.name for u in base.users.list(page=1, per_page=100)] == ["Ann", "Bob"]
    with pytest.raises(RequestError) as stranger:
        base.users.retrieve(world.api.ids["stranger"])
    assert stranger.value.http_status == 404


def test_sequences_as_sell_renders_them(world, base):
    first = world.sequence(TASK_STEPS, name="Welcome sequence")
    world.sequence(TASK_STEPS, name="Other")
    _, _, found = base.http_client.get("/sequences", params={
        "name": "Welcome sequence", "sort_by": "created_at:desc", "per_page": 100})
    [sequence] = found
    assert sequence.id == first
    steps = sequence.steps["items"]
    assert sequence.steps.meta == {"type": "collection", "count": 2}
    assert [s.data.id for s in steps] == [first * 1000, first * 1000 + 1]
    assert steps[0].meta.type == "step"
