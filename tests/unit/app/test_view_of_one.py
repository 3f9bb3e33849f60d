"""SequenceEngine._view (one enrollment: every create, every simulated arrival) gives
what _views (a page) gives for it, task steps and overdue judgements included."""

from pathlib import Path

from engine.runtime.simulation.runner import Simulation
from engine.runtime.simulation.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"


def test_the_view_of_one_enrollment_is_its_view_in_a_page() -> None:
    simulation = Simulation(load_scenario(EXAMPLES / "two_reps.yaml"), enrollments=150, seed=2)
    simulation.run()
    engine, store = simulation.engine, simulation.store
    found = sorted(store.enrollments.values(), key=lambda e: e.id)
    with store.unit_of_work(read_only=True) as uow:
        one = [engine._view(uow, enrollment) for enrollment in found]
        page = engine._views(uow, found)
    assert one == page
    # the run left both kinds of current step, and some of them overdue
    assert {v.enrollment.current_action.task_id is None for v in one} == {True, False}
    assert any(v.overdue_position is not None for v in one)
