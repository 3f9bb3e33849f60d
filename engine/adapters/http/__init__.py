"""The HTTP server: Sell's v2 wire plus the /engine/v1 extension, as a WSGI app.

Falcon on granian (docs/http.md has the measurements behind that choice).
"""

from engine.adapters.http.app import create_app
from engine.adapters.http.auth import Principal, TokenAuth
from engine.adapters.http.guard import EngineGuard
from engine.adapters.http.ratelimit import RateLimit, RateLimiter
from engine.adapters.http.tokens import hash_token, issue_token, revoke_token

__all__ = [
    "EngineGuard",
    "Principal",
    "RateLimit",
    "RateLimiter",
    "TokenAuth",
    "create_app",
    "hash_token",
    "issue_token",
    "revoke_token",
]
