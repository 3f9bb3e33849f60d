"""The built-in outbox delivery: records every send in the store, and fails the
sends that a failure rule names (how tests and the emulator make emails fail).

It is a receiver that follows the rules of http-api.md section 6: a repeated
idempotency key is the same send, and a send that arrives after its lease ran
out is refused (a transient error: its worker no longer held it). Being a write
to the store, a scheduler makes it inside the transaction that records its
outcome (`send_within`, ports.InStoreDelivery): one commit for both."""

from datetime import datetime

from engine.app.ports import (
    SENT,
    OutboxMessage,
    SendRequest,
    SendResult,
    Store,
    UnitOfWork,
)
from engine.domain.enrollment import to_seconds
from engine.errors import DeliveryError


class OutboxDelivery:
    in_process = True  # a send completes here, at once (engine/app/in_process.py)

    def __init__(self, store: Store) -> None:
        self.store = store

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        with self.store.unit_of_work() as uow:
            result = self.send_within(uow, request, now)
            uow.commit()
        return result

    def send_within(self, uow: UnitOfWork, request: SendRequest, now: datetime,
                    ) -> SendResult:
        """The send as a write of the caller's transaction (ports.InStoreDelivery)."""
        if now >= request.lease_expires_at:
            raise DeliveryError("the send arrived after its lease ran out")
        for rule in uow.failure_rules(request.account_id):
            if (rule.resource_type, rule.resource_id) == (
                request.resource_type,
                request.resource_id,
            ):
                return SendResult(False, rule.failure_reason)
        uow.put_outbox_message(
            OutboxMessage(
                idempotency_key=request.idempotency_key,
                account_id=request.account_id,
                enrollment_id=request.enrollment_id,
                position=request.position,
                email_template_id=request.email_template_id,
                is_reply=request.is_reply,
                actor_id=request.actor_id,
                resource_type=request.resource_type,
                resource_id=request.resource_id,
                sent_at=to_seconds(now),
            )
        )
        return SENT
