"""The simulator draws its arrivals and resource deletions before the run and feeds
them to its event heap one at a time (engine/runtime/simulation/runner.py): they must
come out as the heap would have ordered them all, by instant, then by number."""

import heapq
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from engine.runtime.simulation.runner import Kind, Simulation
from engine.runtime.simulation.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"


@pytest.mark.parametrize("period", [timedelta(microseconds=3), timedelta(days=5)])
def test_planned_events_come_by_instant_then_number(period: timedelta) -> None:
    scenario = load_scenario(EXAMPLES / "two_reps.yaml")  # it deletes some resources
    scenario = replace(scenario, arrivals=replace(scenario.arrivals, period=period))
    simulation = Simulation(scenario, enrollments=400, seed=1)
    simulation._plan_arrivals()
    fed = []
    while simulation.heap:
        fed.append(heapq.heappop(simulation.heap))
        simulation._feed_planned()
    order = [(at, number) for at, number, _, _ in fed]
    assert order == sorted(order)
    assert sorted(number for _, number in order) == list(range(1, simulation.pushed + 1))
    kinds = [kind for _, _, kind, _ in fed]
    assert kinds.count(Kind.ARRIVE) == 400 and Kind.RESOURCE_DELETED in kinds
    if period < timedelta(seconds=1):  # arrivals share instants: ties go by number
        assert any(a[0] == b[0] for a, b in pairwise(order))
