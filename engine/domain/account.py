"""Tenants and their users (actors), with each user's calendar and sending limit."""

from dataclasses import dataclass

from engine.timeline import BusinessCalendar, calendar_for

DEFAULT_DAILY_EMAIL_LIMIT = 300
DEFAULT_DAILY_EMAIL_QUOTA = 100_000


@dataclass(slots=True)
class Account:
    id: int
    name: str
    reach_enabled: bool = True
    daily_email_quota: int = DEFAULT_DAILY_EMAIL_QUOTA


@dataclass(slots=True)
class User:
    id: int
    account_id: int
    name: str = ""
    time_zone: str = "UTC"
    holidays: str | None = None
    weekmask: str = "1111100"
    send_window: str | None = None
    daily_email_limit: int = DEFAULT_DAILY_EMAIL_LIMIT

    @property
    def calendar(self) -> BusinessCalendar:
        return calendar_for(self.time_zone, self.holidays, self.weekmask, self.send_window)


@dataclass(slots=True)
class ApiToken:
    """A bearer token, stored only as the SHA-256 hex digest of its 64 hex characters."""

    token_hash: str
    user_id: int
    account_id: int
    scopes: frozenset[str] = frozenset({"read", "write"})
    revoked: bool = False
