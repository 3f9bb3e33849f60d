"""GET one enrollment without Falcon, the gate's transaction or the use case, when
nothing its answer depends on has changed since this process last gave it.

The answer to `GET /v2/sequence_enrollments/{id}` depends on the enrollment's row
(its step list included), the catalog (the account's Reach, the sequence, the
actor's calendar: one catalog version covers them all), the caller's token, and the
time (whether the current step is overdue). The protocol:

1. One SELECT in autocommit, so one snapshot and no BEGIN or ROLLBACK: the catalog
   version, the token's row, and the enrollment's row in the token's account
   (sqlite_queries.sql: get_enrollment_with_token).
2. A hit: the token is there, not revoked and has the read scope, and the memo holds,
   for (account, id), a body rendered at that catalog version from an equal row,
   whose overdue judgement still holds now (engine.app.views.overdue_from: each rule
   is a threshold in time). Those bytes are the answer. Every write, by any process
   or by plain SQL, changes the row or the version, so a hit is never stale.
3. A miss: the use case in a read transaction of its own, with the token checked again
   in it (the body and the token at one snapshot, as the gate does); the body is kept
   with that transaction's version and row. An enrollment whose current step made a
   task is not kept: the task's owner judges it, from another table.
4. Anything else (a missing or malformed token, an unknown or revoked one, no read
   scope, not found, no Reach, a storage error): the request goes on to Falcon as it
   came, nothing spent, and gets the answer it always got.
5. The rate limit is spent once the answer is known, where the gate spends it; a
   refusal goes on to Falcon with that spend attached (SPENT), so the gate answers 429
   without spending twice.

The headers are the gate's, in its order, then Falcon's Content-Length: a hit, a miss
and Falcon's own answer are byte-identical but for the request id
(tests/integration/http/test_http_fast_get.py). Nothing is held across the answer's
sending: the statement and the miss's transaction end before it is handed back.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import orjson

from engine.adapters.http.access_log import AccessLog
from engine.adapters.http.auth import AuthFailed, hashed, principal_of
from engine.adapters.http.ratelimit import RateLimiter
from engine.adapters.http.request_ids import next_request_id
from engine.adapters.http.responses import JSON_TYPE
from engine.app.service import SequenceEngine
from engine.app.views import overdue_from
from engine.wire.parse import MAX_ID
from engine.wire.render import enrollment_document

PREFIX = "/v2/sequence_enrollments/"
STATEMENT = "get_enrollment_with_token"
SPENT = "seqengine.rate_spent"  # environ key: (allowed, tokens) of the spend made here
MAX_KEPT = 2048  # bodies per process (~1.5 KB each, with their rows): past it, the oldest go
MAX_HEADERS = 1024  # Authorization headers whose token hash is kept
MAX_HEADER_LENGTH = 96  # longer ones (padded with blanks) are hashed every time
StartResponse = Callable[..., Any]


class RowReads(Protocol):
    """What a miss needs of the store's read transaction besides the UnitOfWork port."""

    def enrollment_row(self, account_id: int, enrollment_id: int) -> tuple[Any, ...] | None:
        ...

    def catalog_version(self) -> int | None:
        ...


@dataclass(frozen=True, slots=True)
class Kept:
    version: int  # the catalog version the body was rendered at
    row: tuple[Any, ...]  # the enrollment row it was rendered from
    body: bytes
    late_from: datetime | None  # when its current step becomes overdue (None: never)
    late: bool  # the judgement the body holds

    def holds(self, now: datetime) -> bool:
        late_from = self.late_from
        return self.late is (late_from is not None and now >= late_from)


def enrollment_id(path: str) -> int | None:
    """The id of a GET one path written the plain way (digits, no leading zero, within
    the route's range); None for anything else, which Falcon routes as before."""
    if not path.startswith(PREFIX):
        return None
    digits = path[len(PREFIX):]
    if not (digits.isascii() and digits.isdigit()) or digits[0] == "0" or len(digits) > 19:
        return None
    found = int(digits)
    return found if found <= MAX_ID else None


class FastGet:
    def __init__(self, engine: SequenceEngine, limiter: RateLimiter | None,
                 access: AccessLog | None) -> None:
        self.engine, self.limiter, self.access = engine, limiter, access
        self._snapshot: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]] = \
            engine.store.snapshot_rows  # type: ignore[attr-defined]
        self._kept: dict[tuple[int, int], Kept] = {}
        self._hashes: dict[str, str] = {}  # Authorization header -> its token's hash
        self._reads: dict[str, bool] = {}  # a token's scopes column -> has "read"
        self._lock = threading.Lock()

    @staticmethod
    def serves(store: object) -> bool:
        """Whether `store` reads one statement alone at one snapshot (SQLite)."""
        return callable(getattr(store, "snapshot_rows", None)) \
            and STATEMENT in getattr(store, "sql", {})

    def __call__(self, env: dict[str, Any], start_response: StartResponse,
                 ) -> list[bytes] | None:
        """The answer, or None: the request goes on to Falcon."""
        if env["REQUEST_METHOD"] != "GET":
            return None
        path: str = env.get("PATH_INFO", "")
        wanted = enrollment_id(path)
        if wanted is None:
            return None
        access = self.access
        started = access.timer() if access is not None else None
        token_hash = self._hash(env.get("HTTP_AUTHORIZATION"))
        if token_hash is None:
            return None
        try:
            body = self._body(token_hash, wanted)
        except Exception:  # Falcon's path answers it (and logs what is unexpected)
            return None
        if body is None:
            return None
        headers = [("content-language", "en"), ("content-type", JSON_TYPE)]
        limiter = self.limiter
        if limiter is not None:
            allowed, tokens = limiter.spend(token_hash)
            if not allowed:
                env[SPENT] = (allowed, tokens)
                return None
            remaining, reset = limiter.remaining_and_reset(tokens)
            headers += [("ratelimit-limit", limiter.limit_text),
                        ("ratelimit-remaining", remaining), ("ratelimit-reset", reset)]
        rid = next_request_id()
        headers.insert(0, ("x-request-id", rid))
        headers.append(("content-length", str(len(body))))
        start_response("200 OK", headers)
        if access is not None and access.enabled():
            access.write("GET", path, 200, started, rid)
        return [body]

    def _hash(self, authorization: str | None) -> str | None:
        if authorization is None:
            return None
        found = self._hashes.get(authorization)
        if found is None:
            try:
                found = hashed(authorization)
            except AuthFailed:
                return None
            if len(authorization) <= MAX_HEADER_LENGTH:
                if len(self._hashes) >= MAX_HEADERS:
                    self._hashes.clear()
                self._hashes[authorization] = found
        return found

    def _can_read(self, scopes: str) -> bool:
        found = self._reads.get(scopes)
        if found is None:
            found = "read" in orjson.loads(scopes)
            if len(self._reads) >= MAX_HEADERS:
                self._reads.clear()
            self._reads[scopes] = found
        return found

    def _body(self, token_hash: str, wanted: int) -> bytes | None:
        row = self._snapshot(STATEMENT, {"token_hash": token_hash, "id": wanted})[0]
        account_id = row[1]
        if account_id is None or row[3] or not self._can_read(row[2]) or row[4] is None:
            return None
        kept = self._kept.get((account_id, wanted))
        if kept is not None and kept.version == row[0] and kept.row == row[4:] \
                and kept.holds(self.engine.clock.now()):
            return kept.body
        return self._miss(token_hash, wanted)

    def _miss(self, token_hash: str, wanted: int) -> bytes | None:
        engine = self.engine
        uow = engine.begin_shared_read()
        try:
            who = principal_of(uow.get_token(token_hash), token_hash)
            reads = cast(RowReads, uow)
            row = reads.enrollment_row(who.account_id, wanted)
            if "read" not in who.scopes or row is None:
                return None
            view = engine.get_enrollment(who.account_id, wanted)  # joins this transaction
            body = enrollment_document(view)
            enrollment = view.enrollment
            if enrollment.actions and enrollment.current_action.task_id is not None:
                return body
            actor = uow.get_user(enrollment.actor_id)
            version = reads.catalog_version()
            if actor is None or version is None:
                return body
            late_from = overdue_from(enrollment, actor.calendar, engine.policy.email_grace)
        finally:
            engine.end_shared_read()
        self._keep((who.account_id, wanted),
                   Kept(version, row, body, late_from, view.overdue_position is not None))
        return body

    def _keep(self, key: tuple[int, int], kept: Kept) -> None:
        with self._lock:
            entries = self._kept
            entries.pop(key, None)  # to the young end
            if len(entries) >= MAX_KEPT:
                del entries[next(iter(entries))]
            entries[key] = kept
