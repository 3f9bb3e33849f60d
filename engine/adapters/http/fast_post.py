"""POST /v2/sequence_enrollments (create) without Falcon, for the common case only: a
JSON body with a Content-Length, no Idempotency-Key, a token that may write, within
the rate limit, and a create the use case accepts.

It does what Falcon's path does (engine/adapters/http/gate.py, then
resources/enrollments.py's EnrollmentList.on_post), in the same order, and answers
with the same bytes and headers but the request id:

1. Without side effects, the request must look like the common case: the method and
   the path exactly, no Idempotency-Key, no Transfer-Encoding, a JSON Content-Type,
   a Content-Length of 1 to 1 MiB in plain digits, a well-formed bearer token.
2. The token, judged as the gate judges it and as exactly: a per-process memo of
   (catalog version, principal) per token hash, valid while a lone statement still
   reads that catalog version (every change of a token, user or account bumps it;
   sqlite_schema.sql, migration 3); otherwise read in a read transaction of its own
   with the version it was read at. It must have the `write` scope.
3. The rate limit is spent, as the gate spends it.
4. The body is read through the app's BodyReader (the same hand-over and deadline),
   parsed, and the create runs as on_post runs it (SequenceEngine.enroll, batched
   with other creates: no guard, as EnrollmentList._create_guard allows here).

Anything else goes on to Falcon, which answers as it always did: before step 3 as the
request came; after it with the spend attached (fast_get.SPENT: the gate does not
spend twice) and, once the body was read, with its outcome attached (READ_AHEAD:
Falcon's BodyReader hands over that outcome instead of reading again), so a refused
body, a bad payload or a refused create gets Falcon's own answer. A refused create
changed nothing (use cases check everything before they change anything), so Falcon
runs it again and gets the same refusal, or, if something changed meanwhile, the
answer of a request that came a moment later. Any other failure (the store's, a bug)
goes on the same way, so Falcon's error handlers answer it: should it have come after
the create's commit, the second create is refused (one ongoing enrollment per
resource and sequence, checked in the create's write transaction), never a duplicate.
"""

import threading
from collections.abc import Callable
from typing import Any

from engine.adapters.http.access_log import AccessLog
from engine.adapters.http.auth import AuthFailed, Principal, principal_of
from engine.adapters.http.body import MAX_BODY, READ_AHEAD, BodyReader, is_json
from engine.adapters.http.fast_get import StartResponse, TokenHashes, answer_with, spend
from engine.adapters.http.ratelimit import RateLimiter
from engine.app.service import SequenceEngine
from engine.wire.parse import parse_body, parse_create_enrollment
from engine.wire.render import enrollment_document

PATH = "/v2/sequence_enrollments"
VERSION = "catalog_version"  # sqlite_queries.sql: the one statement of a memo hit
MAX_TOKENS = 1024  # principals kept; past it, they start over


class PrincipalMemo:
    """The principal of a token hash, as the gate would find it now (None: a token the
    gate refuses), from a memo kept with the catalog version it was read at."""

    def __init__(self, engine: SequenceEngine) -> None:
        self.store = engine.store
        self._snapshot: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]] = \
            engine.store.snapshot_rows  # type: ignore[attr-defined]
        self._kept: dict[str, tuple[int, Principal]] = {}
        self._lock = threading.Lock()

    def __call__(self, token_hash: str) -> Principal | None:
        kept = self._kept.get(token_hash)
        if kept is not None and self._snapshot(VERSION, {})[0][0] == kept[0]:
            return kept[1]
        with self.store.unit_of_work(read_only=True) as uow:
            version = uow.catalog_version()  # type: ignore[attr-defined]
            try:
                who = principal_of(uow.get_token(token_hash), token_hash)
            except AuthFailed:
                return None
        with self._lock:
            if len(self._kept) >= MAX_TOKENS:
                self._kept.clear()
            self._kept[token_hash] = (version, who)
        return who


def body_length(env: dict[str, Any]) -> int | None:
    """The Content-Length of a body the fast path reads (JSON, 1 byte to 1 MiB, sent
    whole rather than chunked); None for any other request."""
    length: str = env.get("CONTENT_LENGTH") or ""
    if not (length.isascii() and length.isdigit()) or "HTTP_TRANSFER_ENCODING" in env \
            or not is_json(env.get("CONTENT_TYPE") or ""):
        return None
    found = int(length)
    return found if 0 < found <= MAX_BODY else None


class FastPost:
    def __init__(self, engine: SequenceEngine, limiter: RateLimiter | None,
                 bodies: BodyReader, hashes: TokenHashes, access: AccessLog | None) -> None:
        self.engine, self.limiter, self.bodies, self.access = engine, limiter, bodies, access
        self._hash, self._principal = hashes, PrincipalMemo(engine)

    def __call__(self, env: dict[str, Any], start_response: StartResponse,
                 ) -> list[bytes] | None:
        """The answer, or None: the request goes on to Falcon."""
        if env.get("REQUEST_METHOD") != "POST" or env.get("PATH_INFO") != PATH \
                or "HTTP_IDEMPOTENCY_KEY" in env:
            return None
        length = body_length(env)
        if length is None:
            return None
        access = self.access
        started = access.timer() if access is not None else None
        token_hash = self._hash(env.get("HTTP_AUTHORIZATION"))
        if token_hash is None:
            return None
        try:
            who = self._principal(token_hash)
        except Exception:  # the store failed: Falcon's path answers it
            return None
        if who is None or "write" not in who.scopes:
            return None
        limiter = self.limiter
        allowed, tokens = spend(limiter, token_hash, env)
        if not allowed:
            return None
        try:
            raw = self.bodies.within_deadline(env["wsgi.input"].read, length)
        except Exception as failure:  # a stalled or broken body: Falcon's reader raises it
            env[READ_AHEAD] = failure
            return None
        env[READ_AHEAD] = raw
        if len(raw) < length:  # Falcon's reader refuses it
            return None
        try:
            command = parse_create_enrollment(parse_body(raw))
            view = self.engine.enroll(
                who.account_id,
                sequence_id=command.sequence_id,
                resource_type=command.resource_type,
                resource_id=command.resource_id,
                actor_id=command.actor_id if command.actor_id is not None else who.user_id,
            )
        except Exception:  # refused (nothing changed) or failed: Falcon's path answers it
            return None
        return answer_with(start_response, enrollment_document(view), limiter, tokens, access,
                      "POST", PATH, started)
