"""The runner's arrivals draw as `random.choices` would: the same numbers, the same
picks, the same refusals (engine/runtime/simulation/runner.py, `_picker`)."""

import random
from itertools import accumulate

import pytest

from engine.runtime.simulation.runner import _picker


@pytest.mark.parametrize(
    "weights", [[1.0], [0.2, 0.8], [0.0, 1.0, 0.0], [3, 1, 2], [0.1] * 7, [1e-9, 5.0]]
)
def test_a_picker_draws_what_choices_draws(weights: list[float]) -> None:
    cum = list(accumulate(weights))
    ours, theirs = random.Random(11), random.Random(11)
    pick = _picker(ours, cum)
    population = range(len(cum))
    picked = [pick() for _ in range(2000)]
    assert picked == [theirs.choices(population, cum_weights=cum)[0] for _ in range(2000)]
    assert ours.random() == theirs.random()  # and left the generator where choices does


@pytest.mark.parametrize("weights", [[], [0.0], [0.0, 0.0], [float("inf")], [float("nan")]])
def test_a_picker_refuses_what_choices_refuses(weights: list[float]) -> None:
    cum = list(accumulate(weights))
    pick = _picker(random.Random(1), cum)  # made without complaint: a count of 0 draws none
    with pytest.raises((ValueError, IndexError)) as ours:
        pick()
    with pytest.raises((ValueError, IndexError)) as theirs:
        random.Random(1).choices(range(len(cum)), cum_weights=cum)
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))
