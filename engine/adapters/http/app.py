"""The WSGI application: Falcon routes over the SequenceEngine facade.

`create_app` is called by the composition root (the `serve` command, tests); it
builds nothing else and reads no configuration.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import falcon

from engine.adapters.clocks import monotonic
from engine.adapters.http import errors
from engine.adapters.http.access_log import AccessLog
from engine.adapters.http.auth import TokenAuth
from engine.adapters.http.body import DEFAULT_TIMEOUT, READ_AHEAD, BodyReader, BodyTimedOut
from engine.adapters.http.context import HttpContext
from engine.adapters.http.fast_get import FastGet, StartResponse
from engine.adapters.http.fast_post import FastPost
from engine.adapters.http.gate import PUBLIC_PATHS, Gate
from engine.adapters.http.guard import EngineGuard
from engine.adapters.http.ratelimit import RateLimit, RateLimiter
from engine.adapters.http.resources import (
    docs,
    enrollments,
    extension,
    sequences,
    tasks,
    users,
)
from engine.adapters.http.resources.metrics import MetricsPage
from engine.app.service import SequenceEngine
from engine.wire.parse import MAX_ID

if TYPE_CHECKING:  # prometheus-client is imported only when metrics are asked for
    from engine.adapters.metrics import Metrics

ID = f"{{id:int(min=1, max={MAX_ID})}}"
CLOCK_MODES = ("system", "simulated")
METRICS_PATH = "/metrics"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"  # what `serve` listens on by default


def public_base(url: str) -> str:
    """`scheme://host[:port][/prefix]` without a trailing slash; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"the public URL must be http(s)://host[:port][/path], not {url!r}")
    return url.rstrip("/")


class EngineApp(falcon.App[falcon.Request, falcon.Response]):
    """Falcon's app, with the GETs' and POST create's fast paths in front of it where
    the store allows (engine/adapters/http/fast_get.py, fast_post.py): a request they
    do not answer goes on to Falcon (as it came, or with what they did attached)."""

    fast_get: FastGet | None = None
    fast_post: FastPost | None = None

    def __call__(self, env: Any, start_response: StartResponse) -> Any:
        fast = self.fast_get
        if fast is not None:
            answer = fast(env, start_response)
            if answer is not None:
                return answer
        fast_post = self.fast_post
        if fast_post is not None:
            answer = fast_post(env, start_response)
            if answer is not None:
                return answer
            ahead = env.get(READ_AHEAD)
            if isinstance(ahead, BodyTimedOut):
                # Falcon may answer before it reaches the body (a token revoked since the
                # fast path judged it): the answer still waits for the abandoned read
                return _then_wait(super().__call__(env, start_response), ahead)
        return super().__call__(env, start_response)


def _then_wait(answer: Iterable[bytes], timed_out: BodyTimedOut) -> Iterator[bytes]:
    """`answer`, then the wait for a body read given up at its deadline: a request must
    not end while its reader still waits on the client (engine/adapters/http/body.py)."""
    try:
        yield from answer
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
    timed_out.pending.wait()


def shares_reads(engine: SequenceEngine, auth: TokenAuth, guard: EngineGuard) -> bool:
    """Whether a GET's token check can join its use case's read transaction: the token
    lives in the engine's store, and reads do not hold the guard's lock (they do over
    the in-memory store, whose token check then stays a transaction of its own)."""
    return auth.store is engine.store and not guard.exclusive_reads


def create_app(
    engine: SequenceEngine,
    *,
    auth: TokenAuth,
    rate_limit: RateLimit | None,
    clock_mode: str,
    guard: EngineGuard | None = None,
    rate_clock: Callable[[], float] = monotonic,
    metrics: "Metrics | None" = None,
    public_url: str = DEFAULT_PUBLIC_URL,
    request_timeout: float = DEFAULT_TIMEOUT,
    access_log: bool = False,
) -> EngineApp:
    """The WSGI app. `rate_limit=None` turns rate limiting off; `rate_clock` is the
    monotonic clock its buckets refill by and a body's read deadline runs on (tests
    move a fake one). `guard` must be
    the one a scheduler thread of the same process uses (default: one made for the
    store, see engine.adapters.http.guard). `public_url` is the base of every link
    the app writes (never the request's Host); a body that has not arrived within
    `request_timeout` seconds is answered 408. `access_log`: one INFO line per
    request on the `seqengine.http.access` logger. With `metrics`, requests are
    timed and GET /metrics serves them."""
    if clock_mode not in CLOCK_MODES:
        raise ValueError(f"clock_mode must be one of {CLOCK_MODES}, not {clock_mode!r}")
    guard = guard or EngineGuard.for_store(engine.store)
    limiter = RateLimiter(rate_limit, rate_clock) if rate_limit is not None else None
    ctx = HttpContext(engine, guard, clock_mode)
    router = falcon.routing.CompiledRouter()
    bodies = BodyReader(request_timeout, clock=rate_clock)
    gate = Gate(auth, limiter, guard, router, bodies,
                public_base(public_url),
                public=PUBLIC_PATHS | ({METRICS_PATH} if metrics is not None else set()),
                shared=engine if shares_reads(engine, auth, guard) else None)
    access = AccessLog() if access_log else None
    middleware: list[Any] = [access, gate] if access is not None else [gate]
    if metrics is not None:  # first, so it also times what the gate refuses
        metrics.http.router = router
        middleware.insert(0, metrics.http)
    app = EngineApp(middleware=middleware, router=router)
    app.req_options.strip_url_path_trailing_slash = False
    app.resp_options.default_media_type = "application/json; charset=utf-8"
    errors.install(app)

    enrollment_list = enrollments.EnrollmentList(ctx)
    app.add_route("/v2/sequence_enrollments", enrollment_list)
    if gate.shared is not None and metrics is None and FastGet.serves(engine.store):
        # metrics time Falcon's path only; pages are kept by the list's memo
        app.fast_get = FastGet(engine, limiter, access, pages=enrollment_list.pages)
        if clock_mode == "system":  # (a simulated clock's creates hold the guard's lock)
            app.fast_post = FastPost(engine, limiter, bodies, app.fast_get.hashes, access)
    app.add_route("/v2/sequence_enrollments/finish_ongoing_for_resource",
                  enrollments.FinishOngoing(ctx))
    app.add_route(f"/v2/sequence_enrollments/{ID}", enrollments.EnrollmentItem(ctx))
    app.add_route("/v2/sequences", sequences.SequenceList(ctx))
    app.add_route(f"/v2/sequences/{ID}", sequences.SequenceItem(ctx))
    app.add_route("/v2/tasks", tasks.TaskList(ctx))
    app.add_route(f"/v2/tasks/{ID}", tasks.TaskItem(ctx))
    app.add_route("/v2/users", users.UserList(ctx))
    app.add_route("/v2/users/self", users.UserSelf(ctx))
    app.add_route(f"/v2/users/{ID}", users.UserItem(ctx))
    app.add_route("/engine/v1/events", extension.Events(ctx))
    app.add_route("/engine/v1/clock", extension.Clock(ctx))
    app.add_route("/engine/v1/outbox", extension.Outbox(ctx))
    app.add_route("/engine/v1/outbox/failures", extension.OutboxFailures(ctx))
    app.add_route("/engine/v1/health", extension.Health(ctx))
    app.add_route("/openapi.json", docs.OpenApi())
    app.add_route("/docs", docs.Docs())
    app.add_route("/docs/{name}", docs.DocsAsset())
    if metrics is not None:
        app.add_route(METRICS_PATH, MetricsPage(metrics))
    return app
