"""The app factory granian serves in the end-to-end tests: a SQLite store in the
test's folder, a simulated clock, and a rate limit, all from the environment the
test starts the server with."""

import os

from engine import SimulatedClock, build
from engine.adapters.http import RateLimit, TokenAuth, create_app
from engine.adapters.storage.sqlite import SqliteStore
from engine.wire.parse import parse_instant


def make_app():  # type: ignore[no-untyped-def]
    store = SqliteStore(os.environ["SEQENGINE_E2E_DB"])
    clock = SimulatedClock(parse_instant(os.environ["SEQENGINE_E2E_START"]))
    limit, period, burst = (int(n) for n in os.environ["SEQENGINE_E2E_RATE"].split(","))
    return create_app(build(store, clock), auth=TokenAuth(store),
                      rate_limit=RateLimit(limit, period, burst), clock_mode="simulated",
                      public_url=os.environ["SEQENGINE_E2E_PUBLIC_URL"],
                      request_timeout=float(os.environ["SEQENGINE_E2E_TIMEOUT"]))
