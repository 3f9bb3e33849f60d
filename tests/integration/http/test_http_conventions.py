"""Sell v2 conventions on every response, errors of the framework's own included."""

import json
import uuid

import pytest
from http_world import TASK_STEPS

from engine.errors import EngineError

JSON = "application/json; charset=utf-8"


def assert_conventions(result) -> None:
    request_id = result.headers["X-Request-Id"]
    assert uuid.UUID(request_id).version == 4
    assert result.headers["Content-Language"] == "en"
    if result.status_code != 204:
        assert result.headers["Content-Type"] == JSON
    if result.status_code >= 400:
        body = result.json
        assert body["meta"]["type"] == "errors"
        assert body["meta"]["logref"] == request_id
        assert body["meta"]["http_status"].startswith(str(result.status_code))
        for item in body["errors"]:
            assert item["meta"] == {"type": "error"}
            assert set(item["error"]) == {"code", "message", "details", "resource", "field"}


def test_success_carries_the_conventions(api):
    result = api.get("/v2/sequences")
    assert result.status_code == 200
    assert_conventions(result)


def test_every_response_has_its_own_request_id(api):
    first, second = api.get("/v2/sequences"), api.get("/v2/sequences")
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_unknown_route_is_a_sell_404(api):
    result = api.get("/v2/leads")
    assert result.status_code == 404
    assert result.json["errors"][0]["error"]["code"] == "not_found"
    assert_conventions(result)


def test_non_numeric_id_is_a_404(api):
    for path in ("/v2/sequence_enrollments/abc", "/v2/sequences/0", "/v2/tasks/-1",
                 "/v2/tasks/99999999999999999999999"):
        result = api.get(path)
        assert result.status_code == 404, path
        assert_conventions(result)


def test_wrong_method_is_405_with_allow(api):
    result = api.delete("/v2/sequence_enrollments")
    assert result.status_code == 405
    assert result.json["errors"][0]["error"]["code"] == "method_not_allowed"
    allowed = {m.strip() for m in result.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "DELETE" not in allowed
    assert_conventions(result)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"data"', b"{}", b'{"data": 1}',
                                  b'{"data": [], "meta": {}}', b'{"data": {}, "extra": 1}', b""])
def test_malformed_body_is_400_invalid_payload(api, body):
    result = api.call("POST", "/v2/sequence_enrollments", body=body,
                      headers={"Content-Type": "application/json"})
    assert result.status_code == 400
    assert result.json["errors"][0]["error"]["code"] == "invalid_payload"
    assert_conventions(result)


def test_oversized_body_is_refused(api):
    body = b'{"data": {"name": "' + b"x" * (1 << 20) + b'"}}'
    result = api.call("POST", "/v2/sequences", body=body,
                      headers={"Content-Type": "application/json"})
    assert result.status_code == 413
    assert result.json["errors"][0]["error"]["code"] == "payload_too_large"
    exactly = b'{"data": {"name": "' + b"x" * ((1 << 20) - 22) + b'"}}'
    assert len(exactly) == 1 << 20  # the limit itself is allowed through to the parser
    result = api.call("POST", "/v2/sequences", body=exactly,
                      headers={"Content-Type": "application/json"})
    assert result.json["errors"][0]["error"]["code"] != "payload_too_large"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON;charset=UTF-8"])
def test_json_with_or_without_a_charset_is_json(api, content_type):
    sequence = api.sequence()
    body = b'{"data": {"sequence_id": %d, "resource_type": "lead", "resource_id": 7}}' % sequence
    result = api.call("POST", "/v2/sequence_enrollments", body=body,
                      headers={"Content-Type": content_type})
    assert result.status_code == 200, result.text


@pytest.mark.parametrize("body", [
    b'{"data": {"name": "a", "name": "b", "steps": []}}',
    b'{"data": {"name": "a", "steps": [{"x": 1, "x": 1}]}}',
    b'{"data": {"name": "a:b", "steps": []}, "data": {"name": "c"}}',
    b'{"data": {"name": "\\u003a", "steps": [], "steps": []}}',
])
def test_a_key_given_twice_in_one_object_is_refused(api, body):
    result = api.call("POST", "/v2/sequences", body=body,
                      headers={"Content-Type": "application/json"})
    assert result.status_code == 400, result.text
    error = result.json["errors"][0]["error"]
    assert error["code"] == "invalid_payload" and "twice" in error["message"]
    assert api.get("/v2/sequences").json["meta"]["count"] == 0


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=101", "per_page=-1",
                                   "ids=1,x", "resource_type=deal", "state=paused",
                                   "sequence_id=1.5", "page=1&page=2", "resource_ids=0"])
def test_bad_query_parameter_is_400_invalid_param(api, query):
    result = api.get("/v2/sequence_enrollments", query_string=query)
    assert result.status_code == 400
    error = result.json["errors"][0]["error"]
    assert error["code"] == "invalid_param"
    assert error["field"]
    assert_conventions(result)


def test_every_bad_parameter_is_reported_together(api):
    result = api.get("/v2/sequence_enrollments", query_string="page=x&per_page=0&state=no")
    fields = {item["error"]["field"] for item in result.json["errors"]}
    assert fields == {"page", "per_page", "state"}


def test_unexpected_exception_is_a_bare_500(api, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api.engine, "list_sequences", explode)
    result = api.get("/v2/sequences")
    assert result.status_code == 500
    error = result.json["errors"][0]["error"]
    assert error["code"] == "server_error"
    assert "secret" not in result.text and "Traceback" not in result.text
    assert_conventions(result)
    assert "secret internals" in caplog.text  # the log keeps it


def test_engine_errors_keep_their_status(api, monkeypatch):
    class Teapot(EngineError):
        status, code = 418, "teapot"

    def refuse(*args, **kwargs):
        raise Teapot("no")

    monkeypatch.setattr(api.engine, "list_sequences", refuse)
    result = api.get("/v2/sequences")
    assert result.status_code == 418
    assert result.json["meta"]["http_status"] == "418 I'm a Teapot"


def test_openapi_docs_and_health_need_no_token(api):
    spec = api.get("/openapi.json", as_=None)
    assert spec.status_code == 200 and spec.json["openapi"].startswith("3.1")
    assert_conventions(spec)
    page = api.get("/docs", as_=None)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "swagger-ui" in page.text and "/openapi.json" in page.text
    health = api.get("/engine/v1/health", as_=None)
    assert health.json == {"data": {"status": "ok", "clock_mode": "simulated"},
                           "meta": {"type": "health"}}


def test_openapi_lists_every_route_the_app_serves(api):
    paths = set(api.get("/openapi.json").json["paths"])
    assert paths == {
        "/v2/sequence_enrollments", "/v2/sequence_enrollments/{id}",
        "/v2/sequence_enrollments/finish_ongoing_for_resource", "/v2/sequences",
        "/v2/sequences/{id}", "/v2/tasks", "/v2/tasks/{id}", "/v2/users", "/v2/users/self",
        "/v2/users/{id}", "/engine/v1/events",
        "/engine/v1/clock", "/engine/v1/outbox", "/engine/v1/outbox/failures",
        "/engine/v1/health", "/openapi.json", "/docs",
    }


def test_create_app_refuses_an_unknown_clock_mode(api):
    from engine.adapters.http import TokenAuth, create_app

    with pytest.raises(ValueError, match="clock_mode"):
        create_app(api.engine, auth=TokenAuth(api.engine.store), rate_limit=None,
                   clock_mode="fast")


def test_a_method_nobody_registered_is_405_too(api):
    """Falcon would answer 400 to a method outside every HTTP registry."""
    import io
    import sys

    def call(path: str) -> tuple[str, dict[str, str], bytes]:
        environ = {"REQUEST_METHOD": "BREW", "PATH_INFO": path, "QUERY_STRING": "",
                   "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
                   "SERVER_PROTOCOL": "HTTP/1.1"}
        seen: list[tuple[str, dict[str, str]]] = []
        body = b"".join(api.client.app(
            environ, lambda status, headers, exc=None: seen.append(
                (status, {k.lower(): v for k, v in headers})),
        ))
        return seen[0][0], seen[0][1], body

    status, headers, body = call("/v2/sequences")
    assert status.startswith("405") and headers["allow"] == "GET, OPTIONS, POST"
    assert b'"method_not_allowed"' in body
    status, headers, body = call("/v2/nowhere")
    assert status.startswith("404") and "allow" not in headers


def _digit_alternatives(node, found):  # type: ignore[no-untyped-def]
    """Every `oneOf` in the document that pairs an integer range with a digit string."""
    if isinstance(node, dict):
        options = node.get("oneOf", [])
        numbers = [o for o in options if o.get("type") == "integer"]
        strings = [o for o in options if o.get("type") == "string" and "pattern" in o]
        if numbers and strings:
            found.append((numbers[0]["minimum"], numbers[0]["maximum"], strings[0]["pattern"]))
        for value in node.values():
            _digit_alternatives(value, found)
    elif isinstance(node, list):
        for value in node:
            _digit_alternatives(value, found)
    return found


def test_digit_string_patterns_spell_exactly_the_integer_ranges():
    """The document's Rails-style digit strings match the numbers the server accepts."""
    import re

    from engine.adapters.http.resources.docs import openapi_document
    from engine.wire.fields import integer_of

    pairs = _digit_alternatives(json.loads(openapi_document()), [])
    assert {(low, high) for low, high, _ in pairs} == {
        (1, 2**63 - 1), (0, 87_600), (0, 2_610), (0, 99)}
    for low, high, pattern in pairs:
        matches = re.compile(pattern)
        for number in {0, 1, 9, 10, 99, 100, low, high, high + 1, high - 1, high * 10,
                       2**63, 10**18}:
            text = str(number)
            accepted = integer_of(text) is not None and low <= int(text) <= high
            assert bool(matches.search(text)) == accepted, (pattern, text)
        for text in ("", "01", "+1", "-1", " 1", "1 ", "1.0", "\uff11"):  # fullwidth 1
            assert not matches.search(text) and integer_of(text) is None


def test_what_the_document_allows_the_server_takes(api):
    """The cases live schemathesis found refused though the document allowed them."""
    steps = [{**TASK_STEPS[0]}, {**TASK_STEPS[1], "delay_from_previous_step": 2610}]
    sequence = api.sequence(steps)
    created = api.post("/v2/sequence_enrollments", {
        "sequence_id": float(sequence), "resource_type": "lead", "resource_id": 3.0})
    assert created.status_code == 200, created.text  # 3.0 is an integer in JSON Schema
    api.advance(1)
    task = api.get("/v2/tasks").json["items"][0]["data"]
    kept = api.put(f"/v2/tasks/{task['id']}", {"content": "", "due_date": ""})
    assert kept.status_code == 200, kept.text  # "" leaves an optional field as it was
    assert kept.json["data"]["content"] == task["content"]
    too_far = api.post("/v2/sequences", {"name": "far", "steps": [
        {**TASK_STEPS[1], "delay_from_previous_step": 2611}]})
    assert too_far.status_code == 422
    assert too_far.json["errors"][0]["error"]["field"] == "/data/steps/0/delay_from_previous_step"
    hours = {**TASK_STEPS[0], "delay_from_previous_step": 2611}
    assert api.post("/v2/sequences", {"name": "h", "steps": [hours]}).status_code == 200
