"""Slow, stalled and idle clients against a real server (granian on loopback).

These are about sockets, not engine time: each test opens real connections that
stop sending, with the server's request timeout set to one second so the whole
module takes a few seconds. Nothing here waits on the simulated clock.
"""

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from e2e_world import Client, seed, serve

TIMEOUT = 1.0  # the server's request timeout in these tests (default 10 s)
PROMPT = 0.5  # "served promptly": well inside the timeout, so no stall was waited out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    url = f"sqlite:///{tmp_path_factory.mktemp('slow') / 'db.sqlite'}"
    world = seed(url)
    with serve(url, request_timeout=TIMEOUT) as base:
        client = Client(base, world["tokens"])
        yield client
        client.http.close()


def port_of(client: Client) -> int:
    return int(client.base.rsplit(":", 1)[1])


def stalled_body(client: Client, stack: ExitStack) -> socket.socket:
    """A POST that declares 1000 bytes of body and sends 12."""
    sock = stack.enter_context(socket.create_connection(("127.0.0.1", port_of(client))))
    sock.sendall(
        b"POST /v2/sequence_enrollments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + client.tokens["rw"].encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + b'{"data": {"s')
    return sock


def served_promptly(client: Client) -> None:
    """A normal GET and a normal POST (a body to read) by another tenant, each on a
    fresh connection, answered well inside the timeout."""
    auth = {"Authorization": f"Bearer {client.tokens['other']}"}
    for method, body in (("GET", None), ("POST", {"data": {"name": "n", "steps": []}})):
        started = time.monotonic()
        answer = httpx.request(method, f"{client.base}/v2/sequences", json=body, timeout=5,
                               headers=auth)
        elapsed = time.monotonic() - started
        assert answer.status_code == 200, answer.text
        assert elapsed < PROMPT, f"a {method} waited {elapsed:.2f} s behind stalled requests"


def read_answer(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    received = b""
    try:
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    except TimeoutError:
        pass
    return received


@pytest.mark.parametrize("stalled", [4, 32, 100])
def test_stalled_bodies_do_not_starve_other_clients(server, stalled):
    with ExitStack() as stack:
        socks = [stalled_body(server, stack) for _ in range(stalled)]
        time.sleep(0.2)  # let the server take them all in (I/O, not engine time)
        served_promptly(server)
        served_promptly(server)
        # and each stalled client is answered 408 in the Sell envelope once its time is up
        answers = [read_answer(sock, TIMEOUT + 3) for sock in socks[:4]]
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"x-request-id:" in head.lower()
        assert b'"code":"request_timeout"' in body
    assert server.get("/v2/sequence_enrollments").json()["meta"]["count"] == 0


def test_idle_keep_alive_connections_do_not_starve_other_clients(server):
    request = (b"GET /engine/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Connection: keep-alive\r\n\r\n")
    with ExitStack() as stack:
        for _ in range(100):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port_of(server))))
            sock.sendall(request)
            assert read_answer(sock, 5).startswith(b"HTTP/1.1 200")
        served_promptly(server)
        served_promptly(server)


def test_half_sent_headers_are_cut_off(server):
    with socket.create_connection(("127.0.0.1", port_of(server))) as sock:
        sock.sendall(b"GET /v2/sequences HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthoriz")
        served_promptly(server)
        sock.settimeout(TIMEOUT + 3)
        started = time.monotonic()
        try:
            leftover = sock.recv(65536)  # granian answers 408 or closes: never hangs
        except ConnectionResetError:
            leftover = b""
        assert time.monotonic() - started < TIMEOUT + 2
        assert leftover == b"" or leftover.startswith(b"HTTP/1.1 408")


def raw_get(client: Client, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port_of(client))) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     f"Authorization: Bearer {client.tokens['rw']}\r\n\r\n".encode())
        return read_answer(sock, 5)


def test_the_app_answers_long_query_strings_in_the_sell_envelope(server):
    """Up to hyper's fixed 64 KiB request-target limit the app answers (the 1,000-id
    limit first); beyond it granian answers 414 itself, with no body (docs/http.md)."""
    ids = ",".join(str(10**17 + n) for n in range(3000))  # 57 KB of ids
    answer = raw_get(server, f"/v2/sequence_enrollments?ids={ids}")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"x-request-id:" in head.lower()
    assert b'"code":"invalid_param"' in body and b"at most 1000" in body
    too_long = raw_get(server, f"/v2/sequence_enrollments?ids={ids},{ids}")
    assert too_long.startswith(b"HTTP/1.1 414") and b"x-request-id" not in too_long.lower()
