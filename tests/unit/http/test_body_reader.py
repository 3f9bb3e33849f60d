"""BodyReader's hand-over to its kept reader threads (engine/adapters/http/body.py): a
read that returns in time is the body (or its exception), a read that does not is a
BodyTimedOut whose answer waits for it, and the threads stay within max_readers."""

import threading

import pytest

from engine.adapters.http.body import BodyReader, BodyTimedOut
from engine.errors import RequestTimeout


class Stalled:
    """A body that arrives only once released."""

    def __init__(self, raw: bytes) -> None:
        self.raw, self.arrived = raw, threading.Event()

    def read(self, wanted: int) -> bytes:
        self.arrived.wait()
        return self.raw[:wanted]


def test_a_read_in_time_is_the_body_and_its_reader_serves_again():
    reader = BodyReader(5.0, max_readers=1)
    assert reader.within_deadline(lambda wanted: b"x" * wanted, 3) == b"xxx"
    assert reader.within_deadline(lambda wanted: b"y" * wanted, 2) == b"yy"
    assert reader._live == 1 and len(reader._idle) == 1


def test_a_read_that_raises_raises_on_the_request_thread():
    reader = BodyReader(5.0)

    def broken(wanted: int) -> bytes:
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError, match="gone"):
        reader.within_deadline(broken, 10)
    assert reader.within_deadline(lambda wanted: b"ok", 2) == b"ok"


def test_a_stalled_read_times_out_and_its_answer_waits_for_it():
    reader = BodyReader(0.05, max_readers=2)
    body = Stalled(b"late")
    with pytest.raises(BodyTimedOut) as timed_out:
        reader.within_deadline(body.read, 4)
    answer = timed_out.value.then_wait(b"408")
    assert next(answer) == b"408"
    finished = threading.Thread(target=list, args=(answer,))
    finished.start()
    finished.join(0.05)
    assert finished.is_alive()  # still waiting for the client
    body.arrived.set()
    finished.join(5)
    assert not finished.is_alive()
    # the abandoned reader ended instead of serving again; a new one serves
    assert reader._idle == [] and reader._live == 0
    assert reader.within_deadline(lambda wanted: b"next", 4) == b"next"


def test_with_every_reader_stalled_another_read_times_out_unread():
    reader = BodyReader(0.05, max_readers=1)
    body = Stalled(b"late")
    with pytest.raises(BodyTimedOut):
        reader.within_deadline(body.read, 4)
    calls: list[int] = []
    with pytest.raises(RequestTimeout) as refused:
        reader.within_deadline(lambda wanted: calls.append(wanted) or b"", 4)
    assert not isinstance(refused.value, BodyTimedOut) and calls == []
    body.arrived.set()  # the stalled one ends: room for a reader again
    for _ in range(100):
        if reader._live == 0:
            break
        threading.Event().wait(0.01)
    assert reader.within_deadline(lambda wanted: b"ok", 2) == b"ok"


def test_a_waiting_request_gets_the_reader_given_back():
    reader = BodyReader(5.0, max_readers=1)
    body = Stalled(b"first")
    results: list[bytes] = []
    first = threading.Thread(target=lambda: results.append(reader.within_deadline(body.read, 5)))
    first.start()
    while reader._live == 0:
        threading.Event().wait(0.001)
    second = threading.Thread(
        target=lambda: results.append(reader.within_deadline(lambda wanted: b"second", 6)))
    second.start()
    while reader._waiting == 0:
        threading.Event().wait(0.001)
    body.arrived.set()
    first.join(5)
    second.join(5)
    assert sorted(results) == [b"first", b"second"] and reader._live == 1


def test_a_reader_needs_a_positive_timeout_and_readers():
    with pytest.raises(ValueError):
        BodyReader(0)
    with pytest.raises(ValueError):
        BodyReader(1.0, max_readers=0)


class Leaping:
    """A fake monotonic clock that moves `step` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.readings = 1000.0, step, 0

    def __call__(self) -> float:
        self.readings += 1
        self.now += self.step
        return self.now - self.step


def test_the_read_deadline_runs_on_the_injected_clock():
    """The clock passes the 5 s deadline between its readings: the stalled read is a
    BodyTimedOut at once (the real clock would wait 5 s), and a read in time is not."""
    clock = Leaping(10.0)
    reader = BodyReader(5.0, max_readers=1, clock=clock)
    body = Stalled(b"late")
    with pytest.raises(BodyTimedOut) as timed_out:
        reader.within_deadline(body.read, 4)
    assert clock.readings == 2  # the deadline, then what is left of it
    body.arrived.set()
    assert list(timed_out.value.then_wait(b"408")) == [b"408"]
    assert BodyReader(5.0, clock=Leaping(1.0)).within_deadline(lambda n: b"ok", 2) == b"ok"


def test_waiting_for_a_reader_ends_at_the_injected_deadline():
    """Every reader busy and the clock past the deadline: refused unread, no wait."""
    clock = Leaping(0.0)
    reader = BodyReader(5.0, max_readers=1, clock=clock)
    body, reading = Stalled(b"first"), threading.Event()

    def read(wanted: int) -> bytes:
        reading.set()
        return body.read(wanted)

    results: list[bytes] = []
    first = threading.Thread(target=lambda: results.append(reader.within_deadline(read, 5)))
    first.start()
    assert reading.wait(5)
    while clock.readings < 2:  # the first request waits for its read (5 s of the clock)
        threading.Event().wait(0.001)
    clock.step = 10.0
    calls: list[int] = []
    with pytest.raises(RequestTimeout) as refused:
        reader.within_deadline(lambda wanted: calls.append(wanted) or b"", 4)
    assert not isinstance(refused.value, BodyTimedOut) and calls == []
    body.arrived.set()
    first.join(5)
    assert results == [b"first"]
