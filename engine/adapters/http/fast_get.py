"""GET one enrollment, and GET a page of them, without Falcon, the gate's transaction
or the use case, when nothing the answer depends on has changed since this process
last gave it.

The answer to `GET /v2/sequence_enrollments/{id}` depends on the enrollment's row
(its step list included), the catalog (the caller's token, the account's Reach, the
sequence, the actor's calendar: one catalog version covers them all, bumped by
triggers on every change of those tables) and the time (whether the current step is
overdue). The protocol:

1. One SELECT alone in autocommit, so one snapshot and no BEGIN or ROLLBACK: the
   catalog version and the enrollment's row with its step list (the stamp;
   sqlite_queries.sql: enrollment_stamp), in the account a memo of the token names.
2. A hit: the token memo (its account and read scope, kept with the catalog version
   they were read at) and the body memo (kept for (account, id) with the stamp it was
   rendered from) both match the stamp, and the body's overdue judgement still holds
   now (engine.app.views.overdue_from: each rule is a threshold in time). Those bytes
   are the answer. Every write, by any process or by plain SQL, changes the row or the
   version, so a hit is never stale, and the token is judged at the answer's snapshot.
3. A miss: the use case in a read transaction of its own, the token checked in it as
   the gate checks it, and the stamp read in it too, so the body, the token and the
   stamp are of one snapshot; all kept. An enrollment whose current step made a task
   is answered, not kept: the task's owner judges it, from another table.
4. Anything else (a missing or malformed token, an unknown or revoked one, no read
   scope, not found, no Reach, a storage error): the request goes on to Falcon as it
   came, nothing spent, and gets the answer it always got.
5. The rate limit is spent once the answer is known, where the gate spends it; a
   refusal goes on to Falcon with that spend attached (SPENT), so the gate answers 429
   without spending twice.

A page (`GET /v2/sequence_enrollments`, any query string) is kept by Falcon's path
(engine/adapters/http/page_memo.py), for (account, query string) with the catalog and
enrollments versions it was rendered at (migration 4: triggers bump the latter on
every write a page shows), and the token that asked is kept here as a miss keeps it.
A hit: ONE autocommit SELECT of both versions (sqlite_queries.sql: page_stamp) equal
to the kept page's, the token memo's version equal too, and the overdue span holding
now. Anything else goes on to Falcon, nothing spent, whose page memo then renders (or
re-stamps) and keeps it; steps 4 and 5 hold as for GET one.

The headers are the gate's, in its order, then Falcon's Content-Length: a hit, a miss
and Falcon's own answer are byte-identical but for the request id
(tests/integration/http/test_http_fast_get.py, test_http_fast_page.py). Nothing is
held across the answer's sending: the statement and the miss's transaction end before
it is handed back.
"""

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from engine.adapters.http.access_log import AccessLog
from engine.adapters.http.auth import AuthFailed, hashed, principal_of
from engine.adapters.http.ratelimit import RateLimiter
from engine.adapters.http.request_ids import next_request_id
from engine.adapters.http.responses import JSON_TYPE
from engine.app.ports import UnitOfWork
from engine.app.service import SequenceEngine
from engine.app.views import EnrollmentView, overdue_from
from engine.wire.parse import MAX_ID
from engine.wire.render import enrollment_document

if TYPE_CHECKING:  # page_memo imports this module
    from engine.adapters.http.page_memo import PageMemo

PREFIX = "/v2/sequence_enrollments/"
PAGE_PATH = "/v2/sequence_enrollments"
STATEMENT = "enrollment_stamp"
PAGE_STATEMENT = "page_stamp"
SPENT = "seqengine.rate_spent"  # environ key: (allowed, tokens) of the spend made here
MAX_KEPT = 2048  # bodies per process (~1.5 KB each, with their stamps): past it, the oldest go
MAX_TOKENS = 1024  # tokens and Authorization headers kept; past it, they start over
MAX_HEADER_LENGTH = 96  # longer headers (padded with blanks) are hashed every time
StartResponse = Callable[..., Any]
K = TypeVar("K")
PLAIN = (("content-language", "en"), ("content-type", JSON_TYPE))  # the gate's, in order


class StampReads(Protocol):
    """What a miss needs of the store's read transaction besides the UnitOfWork port."""

    def enrollment_stamp(self, account_id: int, enrollment_id: int) -> tuple[Any, ...]:
        ...


@dataclass(frozen=True, slots=True)
class Kept:
    """A rendered body, the stamp it was rendered from (compared with what is read now),
    and the span of time its overdue judgements hold in."""

    stamp: Any
    body: bytes
    since: datetime | None  # it holds from this instant on (None: since ever)
    until: datetime | None  # and before this one (None: for ever)

    def holds(self, now: datetime) -> bool:
        since, until = self.since, self.until
        return (since is None or now >= since) and (until is None or now < until)


class KeptBodies(Generic[K]):
    """Kept bodies by key, at most `cap`: the oldest kept goes first. Reads take no lock
    (a dict lookup is atomic); keeping does."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.entries: dict[K, Kept] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> Kept | None:
        return self.entries.get(key)

    def keep(self, key: K, kept: Kept) -> None:
        with self._lock:
            entries = self.entries
            entries.pop(key, None)  # to the young end
            if len(entries) >= self.cap:
                del entries[next(iter(entries))]
            entries[key] = kept


class TokenMemo:
    """Tokens that may read: hash -> (catalog version, account id), as judged at that
    version (a hit needs the version read now to be the same). Past `cap`, it starts
    over."""

    def __init__(self, cap: int = MAX_TOKENS) -> None:
        self.cap = cap
        self.entries: dict[str, tuple[int, int]] = {}

    def get(self, token_hash: str) -> tuple[int, int] | None:
        return self.entries.get(token_hash)

    def keep(self, token_hash: str, version: int, account_id: int) -> None:
        entries = self.entries
        if len(entries) >= self.cap:
            entries.clear()
        entries[token_hash] = (version, account_id)


def judged_span(judged: Iterable[tuple[datetime | None, bool]],
                ) -> tuple[datetime | None, datetime | None] | None:
    """The span of time in which each step stays judged as it was: `judged` holds, per
    enrollment, when its current step turns overdue (views.overdue_from, None: never)
    and whether it was overdue; a judgement turns only at that instant. None if a step
    was judged overdue that never turns so (they disagree: keep nothing)."""
    since: datetime | None = None
    until: datetime | None = None
    for late_from, late in judged:
        if late_from is None:
            if late:
                return None
            continue
        if late:
            since = late_from if since is None else max(since, late_from)
        else:
            until = late_from if until is None else min(until, late_from)
    return since, until


def views_span(uow: UnitOfWork, views: list[EnrollmentView], grace: timedelta,
               ) -> tuple[datetime | None, datetime | None] | None:
    """judged_span of `views`, each judged on its actor's calendar read in `uow`; None
    (keep nothing) if one's current step made a task: its owner judges it, from
    another table."""
    judged = []
    for view in views:
        enrollment = view.enrollment
        if enrollment.actions and enrollment.current_action.task_id is not None:
            return None
        actor = uow.get_user(enrollment.actor_id)
        if actor is None:
            return None
        judged.append((overdue_from(enrollment, actor.calendar, grace),
                       view.overdue_position is not None))
    return judged_span(judged)


class TokenHashes:
    """The token hash of an Authorization header (None: not a well-formed bearer token),
    kept for headers seen before: SHA-256 costs ~1 us."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}  # Authorization header -> its token's hash

    def __call__(self, authorization: str | None) -> str | None:
        if authorization is None:
            return None
        found = self._hashes.get(authorization)
        if found is None:
            try:
                found = hashed(authorization)
            except AuthFailed:
                return None
            if len(authorization) <= MAX_HEADER_LENGTH:
                if len(self._hashes) >= MAX_TOKENS:
                    self._hashes.clear()
                self._hashes[authorization] = found
        return found


def spend(limiter: RateLimiter | None, token_hash: str, env: dict[str, Any],
          ) -> tuple[bool, float | None]:
    """The request's one spend of the rate limit (allowed when there is none), kept in
    `env` (SPENT) so that Falcon, should it answer from here on, does not spend again."""
    if limiter is None:
        return True, None
    allowed, tokens = env[SPENT] = limiter.spend(token_hash)
    return allowed, tokens


def answer_with(start_response: StartResponse, body: bytes, limiter: RateLimiter | None,
                tokens: float | None, access: AccessLog | None, method: str, path: str,
                started: float | None) -> list[bytes]:
    """A fast path's 200: the gate's headers in its order (the rate limit's from the
    `tokens` its spend left), Falcon's Content-Length, and the access log's line."""
    if limiter is None or tokens is None:
        headers = [("x-request-id", rid := next_request_id()), *PLAIN]
    else:
        remaining, reset = limiter.remaining_and_reset(tokens)
        headers = [("x-request-id", rid := next_request_id()), *PLAIN,
                   ("ratelimit-limit", limiter.limit_text),
                   ("ratelimit-remaining", remaining), ("ratelimit-reset", reset)]
    headers.append(("content-length", str(len(body))))
    start_response("200 OK", headers)
    if access is not None and access.enabled():
        access.write(method, path, 200, started, rid)
    return [body]


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
                 access: AccessLog | None, pages: "PageMemo | None" = None) -> None:
        """`pages`: the page memo of Falcon's path, whose kept pages this serves (None:
        GET one only)."""
        self.engine, self.limiter, self.access = engine, limiter, access
        self._snapshot: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]] = \
            engine.store.snapshot_rows  # type: ignore[attr-defined]
        self._kept: KeptBodies[tuple[int, int]] = KeptBodies(MAX_KEPT)
        self.hashes = TokenHashes()  # shared with POST create's fast path
        self._tokens = TokenMemo()
        self.pages = pages
        if pages is not None:
            pages.tokens = self._tokens  # a token whose page it kept reads it here

    @staticmethod
    def serves(store: object) -> bool:
        """Whether `store` reads one statement alone at one snapshot, GET one's stamp
        and a page's (SQLite)."""
        sql = getattr(store, "sql", {})
        return callable(getattr(store, "snapshot_rows", None)) \
            and STATEMENT in sql and PAGE_STATEMENT in sql

    def __call__(self, env: dict[str, Any], start_response: StartResponse,
                 ) -> list[bytes] | None:
        """The answer, or None: the request goes on to Falcon."""
        if env.get("REQUEST_METHOD") != "GET":
            return None
        path: str = env.get("PATH_INFO", "")
        if path == PAGE_PATH and self.pages is not None:
            wanted: int | str | None = env.get("QUERY_STRING", "")
            answer: Callable[[str, Any], bytes | None] = self._page
        else:
            wanted, answer = enrollment_id(path), self._body
            if wanted is None:
                return None
        access = self.access
        started = access.timer() if access is not None else None
        token_hash = self.hashes(env.get("HTTP_AUTHORIZATION"))
        if token_hash is None:
            return None
        try:
            body = answer(token_hash, wanted)
        except Exception:  # Falcon's path answers it (and logs what is unexpected)
            return None
        if body is None:
            return None
        limiter = self.limiter
        allowed, tokens = spend(limiter, token_hash, env)
        if not allowed:
            return None
        return answer_with(start_response, body, limiter, tokens, access, "GET", path,
                           started)

    def _body(self, token_hash: str, wanted: int) -> bytes | None:
        token = self._tokens.get(token_hash)
        if token is not None:
            version, account_id = token
            kept = self._kept.get((account_id, wanted))
            if kept is not None:
                stamp = self._snapshot(STATEMENT, {"id": wanted, "account_id": account_id})[0]
                if stamp[0] == version and kept.stamp == stamp \
                        and kept.holds(self.engine.clock.now()):
                    return kept.body
        return self._miss(token_hash, wanted)

    def _page(self, token_hash: str, query: str) -> bytes | None:
        """A kept page whose versions are those read now; None: Falcon's path answers
        (and keeps) it."""
        token = self._tokens.get(token_hash)
        pages = self.pages
        if token is None or pages is None:
            return None
        version, account_id = token
        kept = pages.kept((account_id, query))
        if kept is None:
            return None
        stamp = self._snapshot(PAGE_STATEMENT, {})[0]
        if stamp[0] == version and kept.stamp[:2] == stamp \
                and kept.holds(self.engine.clock.now()):
            return kept.body
        return None

    def _miss(self, token_hash: str, wanted: int) -> bytes | None:
        engine = self.engine
        uow = engine.begin_shared_read()
        try:
            who = principal_of(uow.get_token(token_hash), token_hash)
            if "read" not in who.scopes:
                return None
            stamp = cast(StampReads, uow).enrollment_stamp(who.account_id, wanted)
            if stamp[1] is None:
                return None
            view = engine.get_enrollment(who.account_id, wanted)  # joins this transaction
            body = enrollment_document(view)
            span = views_span(uow, [view], engine.policy.email_grace)
        finally:
            engine.end_shared_read()
        if span is not None:
            self._keep(token_hash, (who.account_id, wanted), Kept(stamp, body, *span))
        return body

    def _keep(self, token_hash: str, key: tuple[int, int], kept: Kept) -> None:
        self._tokens.keep(token_hash, kept.stamp[0], key[0])
        self._kept.keep(key, kept)
