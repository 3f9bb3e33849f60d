"""Request ids (engine/adapters/http/request_ids.py): canonical version-4 UUIDs, all
different, and a forked process starts from random bits of its own."""

import os
import uuid

from engine.adapters.http.request_ids import next_request_id


def test_request_ids_are_distinct_canonical_version_4_uuids() -> None:
    ids = [next_request_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)


def test_a_forked_process_draws_its_own_prefix() -> None:
    mine = next_request_id()
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(writable, next_request_id().encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(readable, 64).decode()
    os.close(readable)
    os.close(writable)
    assert uuid.UUID(theirs).version == 4
    assert theirs[:24] != mine[:24]  # the 74 random bits (a clash: ~2^-74)
