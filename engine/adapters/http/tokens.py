"""Bearer tokens: 64 hexadecimal characters, handed out once and stored only as hashes.

The store keeps the SHA-256 hex digest of a token (an `ApiToken`), never the token
itself, so a leaked database does not leak credentials.
"""

import hashlib
import re
import secrets
from collections.abc import Iterable

from engine.app.ports import Store
from engine.domain.account import ApiToken
from engine.errors import NotFound

SCOPES = frozenset({"read", "write", "admin"})  # admin: may move a simulated clock
DEFAULT_SCOPES = frozenset({"read", "write"})
TOKEN_SHAPE = re.compile(r"[0-9A-Fa-f]{64}")


def hash_token(token: str) -> str:
    """The stored form of a token; hex case does not matter."""
    return hashlib.sha256(token.lower().encode("ascii")).hexdigest()


def issue_token(store: Store, user_id: int, scopes: Iterable[str] = DEFAULT_SCOPES) -> str:
    """A new token for `user_id` (acting in that user's account); returns the token,
    which is shown once: only its hash is saved."""
    wanted = frozenset(scopes)
    if not wanted or not wanted <= SCOPES:
        raise ValueError(f"scopes must be a non-empty subset of {sorted(SCOPES)}")
    token = secrets.token_hex(32)
    with store.unit_of_work() as uow:
        user = uow.get_user(user_id)
        if user is None:
            raise NotFound("user", user_id)
        uow.save_token(ApiToken(hash_token(token), user.id, user.account_id, wanted))
        uow.commit()
    return token


def revoke_token(store: Store, token: str) -> bool:
    """Revoke a token; False if the store never issued it."""
    if TOKEN_SHAPE.fullmatch(token) is None:
        return False
    with store.unit_of_work() as uow:
        found = uow.get_token(hash_token(token))
        if found is None:
            return False
        found.revoked = True
        uow.save_token(found)
        uow.commit()
    return True
