"""What one transaction of the Executor's batch shares (engine/app/execution.py)."""

from collections.abc import Iterable

from engine.app import limits
from engine.app.ports import UnitOfWork
from engine.domain.account import Account, User
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus


class Batch:
    """What one transaction of a batch shares: the actors and accounts read (each
    once), and the send counters (limits.SendLedger)."""

    def __init__(self, uow: UnitOfWork, *, optimistic: bool = True) -> None:
        self.uow, self.ledger = uow, limits.SendLedger(uow, optimistic=optimistic)
        self._users: dict[int, User] = {}
        self._accounts: dict[int, Account] = {}

    def read_actors(self, user_ids: Iterable[int]) -> None:
        """Read these users at once (one statement), ahead of `actor`."""
        wanted = set(user_ids) - self._users.keys()
        if wanted:
            self._users.update((user.id, user) for user in self.uow.get_users(sorted(wanted)))

    def actor(self, enrollment: Enrollment) -> User:
        found = self._users.get(enrollment.actor_id)
        if found is None:
            found = self.uow.get_user(enrollment.actor_id)
            assert found is not None, "an enrollment outlived its actor"
            self._users[enrollment.actor_id] = found
        return found

    def account(self, enrollment: Enrollment) -> Account:
        found = self._accounts.get(enrollment.account_id)
        if found is None:
            found = self.uow.get_account(enrollment.account_id)
            assert found is not None, "an enrollment outlived its account"
            self._accounts[enrollment.account_id] = found
        return found


def counts_now(enrollment: Enrollment) -> bool:
    """The claim will count this enrollment's step against the sending limits."""
    return (enrollment.is_ongoing and enrollment.current_step.is_email
            and enrollment.current_action.status is ActionStatus.SCHEDULED)
