"""How due work is executed: limits, retries and leases. One frozen value, injected."""

from dataclasses import dataclass
from datetime import timedelta

from engine.domain.enums import LimitPolicy
from engine.timeline import EMAIL_GRACE


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    limit_policy: LimitPolicy = LimitPolicy.BLOCK
    email_grace: timedelta = EMAIL_GRACE
    retry_budget: int = 5  # transient delivery failures before blocking with `unknown`
    retry_base: timedelta = timedelta(seconds=30)  # doubles on every retry
    retry_cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(
        minutes=5
    )  # a claimed send is retried after this if its worker died

    def __post_init__(self) -> None:
        # a lease of zero (or less) expires as it is taken: `run_due` would claim the
        # same step again and again and never return
        if self.lease <= timedelta(0):
            raise ValueError(f"the lease must be positive, not {self.lease}")

    def backoff(self, attempts: int) -> timedelta:
        # the exponent is bounded: a task creation is retried without end, and an
        # unbounded power of two would overflow timedelta
        delay: timedelta = self.retry_base * (2 ** min(attempts - 1, 40))
        return min(delay, self.retry_cap)
