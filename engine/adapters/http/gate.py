"""What every request goes through before its resource: a request id, the common
headers, authentication, the rate limit and the scope check; it also hands the
resources the body reader and the public base URL."""

from dataclasses import dataclass
from uuid import uuid4

import falcon

from engine.adapters.http.auth import TokenAuth
from engine.adapters.http.body import BodyReader
from engine.adapters.http.errors import RouteNotFound, UnknownMethod
from engine.adapters.http.guard import EngineGuard
from engine.adapters.http.ratelimit import RateLimiter
from engine.adapters.http.resources.docs import ASSET_PATHS
from engine.adapters.http.responses import JSON_TYPE
from engine.errors import RateLimited

PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/engine/v1/health"}) | ASSET_PATHS
KNOWN_METHODS = frozenset(falcon.constants.COMBINED_METHODS)


def unknown_method(router: falcon.routing.CompiledRouter, req: falcon.Request) -> Exception:
    """A method no HTTP registry knows: 405 with the route's Allow (Falcon says 400)."""
    found = router.find(req.path, req)
    if found is None:
        return RouteNotFound(req.path)
    methods = {name[3:].upper() for name in dir(found[0]) if name.startswith("on_")}
    return UnknownMethod(req.method, req.path, ", ".join(sorted(methods | {"OPTIONS"})))


@dataclass(slots=True)
class Gate:
    auth: TokenAuth
    limiter: RateLimiter | None
    guard: EngineGuard
    router: falcon.routing.CompiledRouter
    bodies: BodyReader
    public_url: str
    public: frozenset[str] = PUBLIC_PATHS  # paths served without a token

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        rid = str(uuid4())
        context = req.context
        context.request_id = rid
        context.bodies, context.public_url = self.bodies, self.public_url
        resp.set_header("X-Request-Id", rid)
        resp.set_header("Content-Language", "en")
        resp.content_type = JSON_TYPE
        if req.method not in KNOWN_METHODS:
            raise unknown_method(self.router, req)
        if req.path in self.public:
            return
        found = self.auth.authenticate(req.get_header("Authorization"), self.guard)
        if self.limiter is not None:
            decision = self.limiter.take(found.token_hash)
            for name, value in decision.headers():
                resp.set_header(name, value)
            if not decision.allowed:
                raise RateLimited(
                    f"rate limit exceeded: retry in {decision.retry_after} s",
                    decision.retry_after,
                )
        found.require_scope_for(req.method)
        req.context.principal = found
