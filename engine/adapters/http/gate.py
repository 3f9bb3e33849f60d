"""What every request goes through before its resource: a request id, the common
headers, authentication, the rate limit and the scope check; it also hands the
resources the body reader and the public base URL.

A GET's token is checked in the read-only transaction its use case then runs in
(SequenceEngine.begin_shared_read, ended in process_response whatever happened):
one transaction and one catalog version check a request instead of two, and the
token is judged at the very snapshot the answer is read from, so a token revoked
by another process or by plain SQL is refused on the next request (the catalog
version its revocation bumped empties the cache). Other methods check the token
in a transaction of their own before the resource writes anything.
"""

from dataclasses import dataclass

import falcon

from engine.adapters.http.auth import TokenAuth, hashed, principal_of
from engine.adapters.http.body import BodyReader
from engine.adapters.http.errors import RouteNotFound, UnknownMethod
from engine.adapters.http.fast_get import SPENT
from engine.adapters.http.guard import EngineGuard
from engine.adapters.http.ratelimit import RateLimiter
from engine.adapters.http.request_ids import next_request_id
from engine.adapters.http.resources.docs import ASSET_PATHS
from engine.adapters.http.responses import JSON_TYPE
from engine.app.service import SequenceEngine
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
    # the engine whose reads a GET's token check shares (None: checked on its own,
    # as over the in-memory store, whose reads hold the guard's lock instead)
    shared: SequenceEngine | None = None

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        rid = next_request_id()
        context = req.context
        context.request_id = rid
        context.bodies, context.public_url = self.bodies, self.public_url
        # straight into Falcon's header dict (what set_header does, without its
        # per-call lowercasing and checks); names lower case, in the order sent
        headers = resp._headers
        headers["x-request-id"] = rid
        headers["content-language"] = "en"
        headers["content-type"] = JSON_TYPE
        method = req.method
        if method not in KNOWN_METHODS:
            raise unknown_method(self.router, req)
        if req.path in self.public:
            return
        if method == "GET" and self.shared is not None:
            token_hash = hashed(req.get_header("Authorization"))
            uow = self.shared.begin_shared_read()  # process_response ends it
            context.shared_read = uow  # a page's memo reads its stamp in it (page_memo.py)
            found = principal_of(uow.get_token(token_hash), token_hash)
        else:
            found = self.auth.authenticate(req.get_header("Authorization"), self.guard)
        limiter = self.limiter
        if limiter is not None:
            # GET one's fast path spent it already if it handed on a refusal (fast_get.py)
            spent = req.env.get(SPENT)
            allowed, tokens = spent if spent is not None else limiter.spend(found.token_hash)
            headers["ratelimit-limit"] = limiter.limit_text
            headers["ratelimit-remaining"], headers["ratelimit-reset"] = \
                limiter.remaining_and_reset(tokens)
            if not allowed:
                refused = limiter.decision(allowed, tokens)
                headers["retry-after"] = str(refused.retry_after)
                raise RateLimited(
                    f"rate limit exceeded: retry in {refused.retry_after} s",
                    refused.retry_after,
                )
        found.require_scope_for(method)
        context.principal = found

    def process_response(self, req: falcon.Request, resp: falcon.Response,
                         resource: object, req_succeeded: bool) -> None:
        if self.shared is not None:
            self.shared.end_shared_read()
