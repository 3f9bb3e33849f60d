"""The app sees the same request over granian's WSGI and RSGI interfaces.

engine.adapters.http.rsgi builds a WSGI environ from an RSGI scope; a small app
that answers with its environ and body (e2e_server.echo_environ) is served over
each interface and sent the same requests: percent-encoded paths, repeated
headers, bodies with a length and chunked, and none. Two differences are by
design (engine.adapters.http.rsgi): a body the app refuses unread is not read,
and a path whose percent-escapes are not UTF-8 (%FF) reaches the app with
U+FFFD in their place (RSGI decodes paths as UTF-8); no route matches either."""

import socket
from collections.abc import Iterator

import httpx
import pytest
from e2e_world import serve

REQUESTS = [
    ("GET", "/v2/sequence_enrollments?ids=1,2&per_page=25", {}, None),
    ("GET", "/a%20b/%2Fc%C3%A9?q=%20x&r=caf%C3%FF", {"X-Twice": ["1", "2"]}, None),
    ("POST", "/v2/sequence_enrollments", {"Content-Type": "application/json"},
     b'{"data": {"sequence_id": 1}}'),
    ("POST", "/v2/sequence_enrollments", {"Content-Type": "text/plain"}, b"not json"),
    ("DELETE", "/v2/sequence_enrollments/7", {"Accept": "application/json"}, None),
    ("HEAD", "/engine/v1/health", {}, None),
]


def raw_request(base: str, method: str, target: str, headers: dict[str, object],
                body: bytes | None, chunked: bool = False) -> bytes:
    """One request on its own socket, written by hand (so nothing normalises it)."""
    port = int(base.rsplit(":", 1)[1])
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    for name, value in headers.items():
        lines += [f"{name}: {one}" for one in (value if isinstance(value, list) else [value])]
    payload = b""
    if body is not None and chunked:
        lines.append("Transfer-Encoding: chunked")
        half = len(body) // 2
        payload = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n"
                           for part in (body[:half], body[half:])) + b"0\r\n\r\n"
    elif body is not None:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return answer


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('echo') / 'unused.sqlite'}"
    with serve(url, interface="wsgi", factory="e2e_server:echo_environ") as wsgi, \
            serve(url, interface="rsgi", factory="e2e_server:echo_environ") as rsgi:
        yield {"wsgi": wsgi, "rsgi": rsgi}


def seen(base: str, method: str, target: str, headers: dict[str, object],
         body: bytes | None, chunked: bool = False) -> dict[str, str]:
    answer = raw_request(base, method, target, headers, body, chunked)
    if method == "HEAD":
        return {}
    found: dict[str, str] = httpx.Response(200, content=answer).json()
    for varies in ("SERVER_PORT", "HTTP_HOST", "wsgi.url_scheme"):
        assert found.pop(varies, None) is not None or varies == "HTTP_HOST"
    return found


@pytest.mark.parametrize(("method", "target", "headers", "body"), REQUESTS)
def test_the_app_sees_the_same_request_over_both_interfaces(servers, method, target,
                                                             headers, body):
    over_wsgi = seen(servers["wsgi"], method, target, headers, body)
    over_rsgi = seen(servers["rsgi"], method, target, headers, body)
    if headers.get("Content-Type") == "text/plain":  # a body the app refuses unread (415)
        assert over_wsgi.pop("body") == "not json" and over_rsgi.pop("body") == ""
    assert over_wsgi == over_rsgi
    if body is not None and headers.get("Content-Type") == "application/json":
        assert over_wsgi["body"] == body.decode()
        chunked = seen(servers["rsgi"], method, target, headers, body, chunked=True)
        assert chunked["body"] == body.decode()
        assert chunked == seen(servers["wsgi"], method, target, headers, body, chunked=True)
