"""What our server never does but Sell (or the network) may: the seed's own
documents, pages without links, Retry-After dates, 5xx, broken connections and
bodies that are not Sell's. A one-method transport (httpx.MockTransport) plays Sell."""

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import (
    ActionStatus,
    EnrollmentState,
    FinishedReason,
    ResourceType,
    UnsubscribeSettings,
)
from engine.adapters.sell import (
    SellClient,
    SellRateLimited,
    SellResponseError,
    SellServerError,
    SellTransportError,
)

SEED = Path(__file__).parents[2] / "golden" / "seed"
TOKEN = "ab" * 32
Handler = Callable[[httpx.Request], httpx.Response]


def seed(name: str) -> Any:
    return json.loads((SEED / f"{name}.json").read_text(encoding="utf-8"))


class Sell:
    """A fake Sell: answers from a handler, records requests and the client's waits."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.waits: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def client(self, **options: Any) -> SellClient:
        return SellClient(token=TOKEN, transport=httpx.MockTransport(self),
                          sleep=self.waits.append, **options)


def test_the_seed_documents_decode():
    documents = {"/v2/sequence_enrollments/11752426": seed("get-response"),
                 "/v2/sequence_enrollments": seed("list-response")}
    sell = Sell(lambda r: httpx.Response(200, json=documents[r.url.path]))
    with sell.client() as client:
        got = client.get_enrollment(11752426)
        assert (got.resource_type, got.state, got.sequence.id) == (
            ResourceType.LEAD, EnrollmentState.ACTIVE, 554)
        assert got.steps[0].action.estimated_execute_at == datetime(
            2020, 12, 15, 19, 58, 53, 526000, tzinfo=UTC)
        # the seed's list: one item, links with `self` only (and http://): no next page
        [listed] = client.iter_enrollments(per_page=25)
        assert (listed.id, listed.steps[0].status) == (461, ActionStatus.COMPLETED)
    assert str(sell.requests[0].url) == "https://api.getbase.com/v2/sequence_enrollments/11752426"
    assert sell.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("name", ["finish-ongoing-all-response",
                                  "finish-ongoing-one-sequence-response"])
def test_the_seed_finish_ongoing_documents_decode(name):
    sell = Sell(lambda r: httpx.Response(200, json=seed(name)))
    with sell.client() as client:
        finished = client.finish_ongoing_for_resource("lead", 5, sequence_ids=[2222])
    assert finished and all(e.finished_reason is FinishedReason.MANUAL for e in finished)
    assert json.loads(sell.requests[0].content) == {
        "data": {"resource_type": "lead", "resource_id": 5, "sequence_ids": [2222]}}


def test_zendesks_sequences_fixture_decodes():
    """Sell's own sequence list (Zendesk's published fixture): a steps collection with
    Sell's step ids, no unsubscribe_settings, no links."""
    fixture = json.loads((SEED.parent / "zendesk" / "sequences.fixture.json").read_text())
    sell = Sell(lambda r: httpx.Response(200, json=fixture))
    with sell.client() as client:
        welcome, another = client.list_sequences(name="Welcome sequence", per_page=100)
    assert (welcome.id, welcome.name, welcome.creator_id) == (21123, "Welcome sequence",
                                                               1700155)
    assert welcome.step_ids == (2594755, 2594756, 2594757)
    assert [step.email_template_id for step in welcome.steps or ()] == [398744, 398745, 398746]
    assert [step.is_reply for step in another.steps or ()] == [False, True, True]
    assert welcome.unsubscribe_settings == UnsubscribeSettings()  # absent: the default
    assert dict(sell.requests[0].url.params) == {"name": "Welcome sequence", "page": "1",
                                                 "per_page": "100"}


def item_page(links: dict[str, str] | None, ids: list[int]) -> dict[str, Any]:
    document = seed("list-response")
    template = document["items"][0]
    items = [{"data": {**template["data"], "id": i}, "meta": template["meta"]} for i in ids]
    meta: dict[str, Any] = {"count": len(items), "type": "collection"}
    if links is not None:
        meta["links"] = links
    return {"items": items, "meta": meta}


@pytest.mark.parametrize("links", [None, {"self": "http://api.getbase.com/v2/x"}])
def test_without_next_links_pages_are_asked_for_until_a_short_one(links):
    pages = {1: [1, 2], 2: [3, 4], 3: [5]}
    sell = Sell(lambda r: httpx.Response(200, json=item_page(
        links, pages[int(r.url.params["page"])])))
    with sell.client() as client:
        assert [e.id for e in client.iter_enrollments(per_page=2)] == [1, 2, 3, 4, 5]
    assert [r.url.params["page"] for r in sell.requests] == ["1", "2", "3"]


def test_an_exact_multiple_ends_on_an_empty_page():
    pages = {1: [1, 2], 2: []}
    sell = Sell(lambda r: httpx.Response(200, json=item_page(
        None, pages[int(r.url.params["page"])])))
    with sell.client() as client:
        assert [e.id for e in client.iter_enrollments(per_page=2)] == [1, 2]


def test_a_next_link_gives_the_page_number_but_never_the_host():
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        links = {"self": "x", "first_page": "x"}
        if page == 1:
            links["next_page"] = "http://evil.example/v2/sequence_enrollments?page=5"
        return httpx.Response(200, json=item_page(links, [page]))

    sell = Sell(answer)
    with sell.client() as client:
        assert [e.id for e in client.iter_enrollments(resource_type="lead")] == [1, 5]
    assert {r.url.host for r in sell.requests} == {"api.getbase.com"}
    assert [dict(r.url.params) for r in sell.requests] == [
        {"resource_type": "lead", "page": str(n), "per_page": "100"} for n in (1, 5)]


def test_a_next_link_that_goes_back_is_refused():
    links = {"next_page": "https://api.getbase.com/v2/sequence_enrollments?page=1"}
    sell = Sell(lambda r: httpx.Response(200, json=item_page(links, [1])))
    with sell.client() as client, pytest.raises(SellResponseError, match="goes back"):
        list(client.iter_enrollments())


def rate_limited_then_ok(headers: dict[str, str]) -> Handler:
    answers = iter([429, 200])

    def answer(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 429:
            return httpx.Response(429, headers=headers, json={"errors": [], "meta": {}})
        return httpx.Response(200, json={"items": [], "meta": {}})

    return answer


@pytest.mark.parametrize(("headers", "wait"), [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": "Tue, 15 Dec 2020 19:59:03 GMT",
      "Date": "Tue, 15 Dec 2020 19:58:53 GMT"}, 10.0),  # a date, against the answer's Date
    ({"Retry-After": "soon"}, 0.5),  # unreadable: the backoff
    ({}, 0.5),
])
def test_retry_after_in_seconds_or_as_a_date(headers, wait):
    sell = Sell(rate_limited_then_ok(headers))
    with sell.client() as client:
        assert list(client.iter_sequences()) == []
    assert sell.waits == [wait]


def test_rate_limited_without_a_sell_envelope():
    sell = Sell(lambda r: httpx.Response(429, text="slow down"))
    with sell.client(max_retries=0) as client, pytest.raises(SellRateLimited) as caught:
        client.get_task(1)
    assert (caught.value.code, caught.value.details, caught.value.retry_after) == (
        "http_429", "slow down", None)


def test_server_errors_are_retried_only_when_the_request_may_be_repeated():
    sell = Sell(lambda r: httpx.Response(503, text="<html>down</html>"))
    with sell.client(max_retries=2) as client:
        with pytest.raises(SellServerError) as read:
            client.get_enrollment(1)
        assert sell.waits == [0.5, 1.0] and len(sell.requests) == 3
        assert (read.value.http_status, read.value.code) == (503, "http_503")
        with pytest.raises(SellServerError):
            client.create_enrollment(1, "lead", 2)  # no Idempotency-Key: not repeated
        assert len(sell.requests) == 4
        with pytest.raises(SellServerError):
            client.delete_task(1)
        assert len(sell.requests) == 5
        with pytest.raises(SellServerError):
            client.create_enrollment(1, "lead", 2, idempotency_key="k")
        assert len(sell.requests) == 8
        assert sell.requests[-1].headers["Idempotency-Key"] == "k"


def test_a_500_with_a_sell_envelope_keeps_its_details():
    body = {"errors": [{"error": {"code": "server_error", "message": "boom"},
                        "meta": {"type": "error"}}],
            "meta": {"type": "errors", "http_status": "500", "logref": "ref-1"}}
    sell = Sell(lambda r: httpx.Response(500, json=body, headers={"X-Request-Id": "ref-1"}))
    with sell.client() as client, pytest.raises(SellServerError) as caught:
        client.finish_enrollment(3)
    assert (caught.value.code, caught.value.message, caught.value.logref) == (
        "server_error", "boom", "ref-1")
    assert sell.waits == []  # a 500 is not a transient status


def broken(error: type[httpx.TransportError]) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error("broken", request=request)

    return answer


def test_a_read_timeout_is_retried_for_reads_only():
    sell = Sell(broken(httpx.ReadTimeout))
    with sell.client(max_retries=1) as client:
        with pytest.raises(SellTransportError) as read:
            client.list_tasks()
        assert len(sell.requests) == 2 and sell.waits == [0.5]
        assert "ReadTimeout" in str(read.value) and read.value.method == "GET"
        assert isinstance(read.value.__cause__, httpx.ReadTimeout)
        with pytest.raises(SellTransportError):
            client.create_enrollment(1, "lead", 2)
        assert len(sell.requests) == 3


def test_a_refused_connection_is_retried_then_typed():
    with socket.socket() as probe:  # a port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    client = SellClient(f"http://127.0.0.1:{port}", TOKEN, sleep=waits.append, timeout=2)
    with client, pytest.raises(SellTransportError) as caught:
        client.create_enrollment(1, "lead", 2)  # nothing was sent: safe to retry
    assert waits == [0.5, 1.0, 2.0]
    assert caught.value.url == f"http://127.0.0.1:{port}/v2/sequence_enrollments"
    assert "4 attempt(s)" in str(caught.value)


@pytest.mark.parametrize(("body", "problem"), [
    (b"<html>", "not JSON"),
    (b"[]", "not a JSON object"),
    (b'{"data": {"id": 1}, "meta": {"type": "task"}}', "expected 'sequence_enrollment'"),
    (b'{"data": {"id": 1}}', "/data/sequence is missing"),
])
def test_a_body_that_is_not_the_expected_document(body, problem):
    sell = Sell(lambda r: httpx.Response(200, content=body))
    with sell.client() as client, pytest.raises(SellResponseError, match=problem):
        client.get_enrollment(1)


def test_a_mistyped_field_or_unknown_enum_value_names_its_pointer():
    document = seed("get-response")
    document["data"]["enrollment_steps"]["items"][1]["data"]["action"]["data"]["status"] = "x"
    sell = Sell(lambda r: httpx.Response(200, json=document))
    with sell.client() as client, pytest.raises(SellResponseError) as caught:
        client.get_enrollment(1)
    assert "/data/enrollment_steps/items/1/data/action/data/status is 'x'" in str(caught.value)
    document = seed("get-response")
    document["data"]["resource_id"] = True
    with sell.client() as client, pytest.raises(SellResponseError, match="/data/resource_id is"):
        client.get_enrollment(1)


def test_tasks_sell_has_beyond_leads_and_contacts():
    task = {"id": 1, "creator_id": 2, "owner_id": 2, "resource_type": "deal",
            "resource_id": 9, "completed": False, "completed_at": None, "due_date": None,
            "overdue": False, "remind_at": None, "content": "x",
            "created_at": "2020-12-15T19:58:53Z", "updated_at": "2020-12-15T19:58:53Z"}
    floating = {**task, "id": 2, "resource_type": None, "resource_id": None}
    sell = Sell(lambda r: httpx.Response(200, json={
        "items": [{"data": task}, {"data": floating}], "meta": {}}))
    with sell.client() as client:
        deal, loose = client.list_tasks()
    assert (deal.resource_type, loose.resource_type, loose.resource_id) == ("deal", None, None)


def test_client_lifetime_and_arguments():
    with SellClient(token=TOKEN) as client:
        assert not client.closed and client.base_url == "https://api.getbase.com"
    assert client.closed
    for bad in ({}, {"token": " "}):
        with pytest.raises(ValueError, match="token"):
            SellClient(**bad)
    with pytest.raises(ValueError, match="http"):
        SellClient("ftp://example.com", TOKEN)
    with pytest.raises(ValueError):
        SellClient(token=TOKEN, max_retries=-1)
