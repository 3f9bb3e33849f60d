"""Request ids (`X-Request-Id`, an error's `meta.logref`): UUIDs of version 4, cheap.

`uuid4()` reads 16 bytes from the OS and builds a UUID object for every request
(~2 µs). Here each process draws 74 random bits once (and again in a forked
child) and numbers its requests: the id is

    RRRRRRRR-RRRR-4RRR-VRRR-CCCCCCCCCCCC

R: the process's random bits; 4: the version; V: the RFC 4122 variant (8, 9, a or
b, two more random bits); C: a 48-bit counter of the process's requests, in hex.
So ids are unique within a process (the counter) and across processes and
restarts (74 random bits: a clash needs ~10^11 processes), parse as version-4
UUIDs as the API promises (http-api.md section 2), and still tell nothing about
other clients. They are not secrets and do not pretend to be random: consecutive
requests of one process differ only in the counter.
"""

import itertools
import os
import secrets

_COUNTER_BITS = 48


def _prefix() -> str:
    bits = secrets.randbits(74)
    high, low = bits >> 14, bits & 0x3FFF  # 60 bits before the variant, 14 after
    text = f"{high:015x}"
    return f"{text[:8]}-{text[8:12]}-4{text[12:]}-{0x8000 | low:04x}-"


class _Ids:
    __slots__ = ("count", "prefix")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = _prefix()
        self.count = itertools.count()  # next() on it is atomic under the GIL


_IDS = _Ids()
os.register_at_fork(after_in_child=_IDS.reset)


def next_request_id() -> str:
    return f"{_IDS.prefix}{next(_IDS.count) & ((1 << _COUNTER_BITS) - 1):012x}"
