"""The chance delivery fails at the rates it is given, reports every outcome, and raises
for transient errors so that the engine retries."""

import random
from datetime import UTC, datetime

import pytest

from engine.adapters.chance_delivery import ChanceDelivery
from engine.app.ports import SendRequest, SendResult
from engine.domain.enums import FailureReason, ResourceType
from engine.errors import DeliveryError
from engine.runtime.simulation.distributions import Delay

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REQUEST = SendRequest("1:0:0", 1, 1, 0, 1, ResourceType.LEAD, 7, 1, False, NOW)


def test_outcomes_follow_the_rates_and_are_all_observed() -> None:
    seen: list[SendResult | None] = []
    delivery = ChanceDelivery(
        random.Random(1),
        {FailureReason.RECIPIENT_INVALID: 0.2, FailureReason.AUTH: 0.1},
        transient_error_rate=0.05,
        observe=lambda request, now, result: seen.append(result),
    )
    outcomes: dict[str, int] = {}
    for _ in range(20_000):
        try:
            result = delivery.send(REQUEST, NOW)
        except DeliveryError:
            key = "transient"
        else:
            key = result.failure_reason.value if result.failure_reason else "sent"
        outcomes[key] = outcomes.get(key, 0) + 1
    assert len(seen) == 20_000 and seen.count(None) == outcomes["transient"]
    shares = {k: v / 20_000 for k, v in outcomes.items()}
    assert shares["transient"] == pytest.approx(0.05, abs=0.01)
    assert shares["recipient_invalid"] == pytest.approx(0.2, abs=0.01)
    assert shares["auth"] == pytest.approx(0.1, abs=0.01)
    assert shares["sent"] == pytest.approx(0.65, abs=0.015)


def test_the_same_seed_draws_the_same_outcomes() -> None:
    def run(seed: int) -> list[str]:
        delivery = ChanceDelivery(random.Random(seed), {FailureReason.AUTH: 0.5})
        return [str(delivery.send(REQUEST, NOW).failure_reason) for _ in range(50)]

    assert run(3) == run(3) != run(4)


def test_with_nothing_to_fail_every_send_is_sent_observed_and_draws_nothing() -> None:
    seen: list[SendResult | None] = []
    rng = random.Random(2)
    state = rng.getstate()
    delivery = ChanceDelivery(rng, {}, observe=lambda request, now, result: seen.append(result))
    assert [delivery.send(REQUEST, NOW).sent for _ in range(3)] == [True] * 3
    assert [result.sent if result else None for result in seen] == [True] * 3
    assert rng.getstate() == state
    quiet = ChanceDelivery(rng, {})  # no observer
    assert quiet.send(REQUEST, NOW).failure_reason is None


@pytest.mark.parametrize(
    ("failures", "transient", "outcome"),
    [
        ({FailureReason.AUTH: 1.0}, 0.0, "auth"),
        ({}, 1.0, "transient"),
    ],
)
def test_a_single_rate_is_enough_to_draw(
    failures: dict[FailureReason, float], transient: float, outcome: str
) -> None:
    rng = random.Random(2)
    state = rng.getstate()
    delivery = ChanceDelivery(rng, failures, transient_error_rate=transient)
    try:
        result = delivery.send(REQUEST, NOW)
        seen = str(result.failure_reason.value if result.failure_reason else "sent")
    except DeliveryError:
        seen = "transient"
    assert seen == outcome and rng.getstate() != state


@pytest.mark.parametrize(
    ("delay", "low", "high", "mean"),
    [
        (Delay("fixed", 4.0), 4.0, 4.0, 4.0),
        (Delay("uniform", 2.0, 6.0), 2.0, 6.0, 4.0),
        (Delay("exponential", 4.0), 0.0, float("inf"), 4.0),
        (Delay("lognormal", 4.0, 0.5), 0.0, float("inf"), 4.0 * 2.718281828 ** (0.5**2 / 2)),
    ],
)
def test_delays_are_drawn_in_hours_from_their_distribution(
    delay: Delay, low: float, high: float, mean: float
) -> None:
    rng = random.Random(5)
    hours = [delay.draw(rng).total_seconds() / 3600 for _ in range(20_000)]
    assert low <= min(hours) and max(hours) <= high
    assert sum(hours) / len(hours) == pytest.approx(mean, rel=0.05)
