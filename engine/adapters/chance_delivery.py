"""A delivery that fails at given rates: what the simulator uses in place of real email.

Each send draws once from the injected random generator: a transient error (raised, so
the engine retries it), one of the failure reasons at its rate, or a send. Draws happen
in call order, so a seeded generator gives the same outcomes run after run. With no
failures and no transient errors, every send is sent and draws nothing. Every
outcome is reported to `observe`, which is how a caller learns what was sent when.
"""

import random
from collections.abc import Callable, Mapping
from datetime import datetime

from engine.app.ports import SENT, SendRequest, SendResult
from engine.domain.enums import FailureReason
from engine.errors import DeliveryError

Observer = Callable[[SendRequest, datetime, SendResult | None], None]


class ChanceDelivery:
    in_process = True  # a send completes here, at once (engine/app/in_process.py)

    def __init__(
        self,
        rng: random.Random,
        failures: Mapping[FailureReason, float],
        transient_error_rate: float = 0.0,
        observe: Observer | None = None,
    ) -> None:
        self.rng, self.transient_error_rate, self.observe = rng, transient_error_rate, observe
        self.outcomes = [(rate, SendResult(False, reason)) for reason, rate in failures.items()]
        # nothing can fail: every send is sent, without a draw (the generator is this
        # delivery's alone in the simulator, so no other draw moves; -1.3% of P4's
        # instructions, which has no failures)
        self.certain = not self.outcomes and not transient_error_rate

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        if self.certain:
            if self.observe is not None:
                self.observe(request, now, SENT)
            return SENT
        draw = self.rng.random()
        if draw < self.transient_error_rate:
            if self.observe is not None:
                self.observe(request, now, None)
            raise DeliveryError("simulated transient delivery error")
        draw -= self.transient_error_rate
        result = SENT
        for rate, failed in self.outcomes:
            if draw < rate:
                result = failed
                break
            draw -= rate
        if self.observe is not None:
            self.observe(request, now, result)
        return result
