"""Delays drawn from a named distribution, in hours (how long a reply or a task takes)."""

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.runtime.simulation.schema import ScenarioError, mapping, number

# each distribution and the parameters it takes
SHAPES: dict[str, tuple[str, ...]] = {
    "fixed": ("hours",),
    "uniform": ("min_hours", "max_hours"),
    "exponential": ("mean_hours",),
    "lognormal": ("median_hours", "sigma"),
}


@dataclass(frozen=True, slots=True)
class Delay:
    shape: str
    a: float
    b: float = 0.0

    def draw(self, rng: random.Random) -> timedelta:
        match self.shape:
            case "fixed":
                hours = self.a
            case "uniform":
                hours = rng.uniform(self.a, self.b)
            case "exponential":
                hours = rng.expovariate(1 / self.a) if self.a else 0.0
            case _:
                hours = rng.lognormvariate(math.log(self.a), self.b) if self.a else 0.0
        return timedelta(hours=hours)


def read_delay(value: Any, at: str) -> Delay:
    """`{distribution: lognormal, median_hours: 6, sigma: 1}` and the like."""
    if not isinstance(value, dict) or value.get("distribution") not in SHAPES:
        raise ScenarioError(
            f"{at}.distribution must be one of {', '.join(SHAPES)}, "
            f"got {value.get('distribution') if isinstance(value, dict) else value!r}"
        )
    shape = value["distribution"]
    params = SHAPES[shape]
    found = mapping(value, at, {"distribution", *params}, set(params))
    a = number(found[params[0]], f"{at}.{params[0]}")
    b = number(found[params[1]], f"{at}.{params[1]}") if len(params) > 1 else 0.0
    if shape == "uniform" and b < a:
        raise ScenarioError(f"{at}.max_hours must not be below min_hours")
    return Delay(shape, a, b)
