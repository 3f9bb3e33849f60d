"""Rate limiting and object-level authorization over a real server."""

from collections.abc import Iterator

import pytest
from e2e_world import EMAIL_STEPS, TASK_STEPS, Client, seed, serve


@pytest.fixture(scope="module")
def two_worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Client]]:
    """Two servers over two databases seeded alike; only the first gets our objects."""
    urls = [f"sqlite:///{tmp_path_factory.mktemp(name) / 'db.sqlite'}" for name in "ab"]
    worlds = [seed(url) for url in urls]
    with serve(urls[0]) as first, serve(urls[1]) as second:
        clients = (Client(first, worlds[0]["tokens"]), Client(second, worlds[1]["tokens"]))
        yield clients
        for client in clients:
            client.http.close()


ROUTES = [
    ("GET", "/v2/sequence_enrollments/{enrollment}", None),
    ("PUT", "/v2/sequence_enrollments/{enrollment}", {"state": "finished"}),
    ("GET", "/v2/sequences/{sequence}", None),
    ("PUT", "/v2/sequences/{sequence}", {"name": "mine now"}),
    ("GET", "/v2/tasks/{task}", None),
    ("PUT", "/v2/tasks/{task}", {"completed": True}),
    ("DELETE", "/v2/tasks/{task}", None),
    ("POST", "/engine/v1/events", {"type": "email_replied", "enrollment_id": "enrollment"}),
]


def test_bola_matrix(two_worlds):
    ours, empty = two_worlds
    sequence = ours.sequence(TASK_STEPS)
    enrollment = ours.enroll(sequence, 1)
    ours.advance(1)
    task = ours.ok(ours.get("/v2/tasks"))["items"][0]["data"]["id"]
    ids = {"sequence": sequence, "enrollment": enrollment["id"], "task": task}

    def mine() -> tuple[bytes, ...]:
        return (ours.get(f"/v2/sequence_enrollments/{ids['enrollment']}").content,
                ours.get(f"/v2/sequences/{ids['sequence']}").content,
                ours.get(f"/v2/tasks/{ids['task']}").content)

    before = mine()
    for method, template, data in ROUTES:
        path = template.format(**ids)
        if data and data.get("enrollment_id") == "enrollment":
            data = data | {"enrollment_id": ids["enrollment"]}
        answers = [world.call(method, path, data=data, as_="other") for world in (ours, empty)]
        for answer in answers:
            assert answer.status_code == 404, (method, path, answer.text)
        bodies = [answer.json() for answer in answers]
        for body, answer in zip(bodies, answers, strict=True):
            assert body["meta"].pop("logref") == answer.headers["X-Request-Id"]
        assert bodies[0] == bodies[1], (method, path)
        assert answers[0].content.replace(
            answers[0].headers["X-Request-Id"].encode(), b"") == answers[1].content.replace(
            answers[1].headers["X-Request-Id"].encode(), b"")
    assert mine() == before


def test_rate_limit_over_the_wire(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    world = seed(url)
    with serve(url, rate="1,3600,3") as base:
        client = Client(base, world["tokens"])
        try:
            answers = [client.get("/v2/sequences") for _ in range(4)]
            assert [a.status_code for a in answers] == [200, 200, 200, 429]
            refused = answers[-1]
            assert refused.json()["errors"][0]["error"]["code"] == "rate_limit_exceeded"
            assert int(refused.headers["Retry-After"]) > 3000
            assert refused.headers["RateLimit-Limit"] == "3"
            assert refused.headers["RateLimit-Remaining"] == "0"
            assert int(refused.headers["RateLimit-Reset"]) > 0
            assert client.get("/v2/sequences", as_="other").status_code == 200  # per token
            assert client.post("/v2/sequences", {"name": "x", "steps": EMAIL_STEPS}
                               ).status_code == 429
        finally:
            client.http.close()
