"""Bearer authentication and scopes (http-api.md section 1).

`Authorization: Bearer <64 hex>`; the token's SHA-256 is looked up in the store.
Missing, malformed, unknown and revoked tokens are all the same 401, so a caller
learns nothing about which tokens exist. GET asks for the `read` scope, every
other method for `write`; moving the simulated clock, which every account of the
server shares, also asks for `admin`.
"""

from dataclasses import dataclass

from engine.adapters.http.guard import EngineGuard
from engine.adapters.http.tokens import TOKEN_SHAPE, hash_token
from engine.app.ports import Store
from engine.domain.account import ApiToken
from engine.errors import InsufficientScope, Unauthorized

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = 'Bearer realm="seqengine"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="seqengine", error="invalid_token"'


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's user, acting in that user's account."""

    account_id: int
    user_id: int
    scopes: frozenset[str]
    token_hash: str

    def require_scope_for(self, method: str) -> None:
        scope = "read" if method in READ_METHODS else "write"
        if scope not in self.scopes:
            raise InsufficientScope(
                f"this token lacks the '{scope}' scope that {method} requests need"
            )

    def require_admin(self, action: str) -> None:
        if "admin" not in self.scopes:
            raise InsufficientScope(f"this token lacks the 'admin' scope that {action} needs")


class AuthFailed(Unauthorized):
    """A 401 that knows its WWW-Authenticate challenge."""

    def __init__(self, message: str, challenge: str) -> None:
        super().__init__(message)
        self.challenge = challenge


class TokenAuth:
    def __init__(self, store: Store) -> None:
        self.store = store

    def authenticate(self, authorization: str | None, guard: EngineGuard) -> Principal:
        """The caller, checked in a read-only transaction of its own."""
        token_hash = hashed(authorization)
        with guard.read(), self.store.unit_of_work(read_only=True) as uow:
            return principal_of(uow.get_token(token_hash), token_hash)


def hashed(authorization: str | None) -> str:
    """The stored form of the header's token; a 401 if there is no well-formed one."""
    if not authorization:
        raise AuthFailed("an 'Authorization: Bearer <token>' header is required", CHALLENGE)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or TOKEN_SHAPE.fullmatch(token) is None:
        raise AuthFailed(
            "the Authorization header must be 'Bearer ' and a 64-hex-digit token",
            INVALID_TOKEN_CHALLENGE,
        )
    return hash_token(token)


def principal_of(found: ApiToken | None, token_hash: str) -> Principal:
    if found is None or found.revoked:
        raise AuthFailed("the token is unknown or revoked", INVALID_TOKEN_CHALLENGE)
    return Principal(found.account_id, found.user_id, frozenset(found.scopes), token_hash)
