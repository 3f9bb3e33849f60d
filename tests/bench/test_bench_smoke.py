"""The benchmarks in smoke mode: each runs and reports every field results.json needs.
No timing is asserted here (performance.md: benchmarks are not timed unit tests)."""

import importlib

import pytest

FIGURES = {
    "bench_lifecycle": ["P1", "P2"],
    "bench_planning": ["P3"],
    "bench_simulation": ["P4"],
    "bench_render": ["P8"],
    "bench_startup": ["P7"],
    "bench_scheduler": ["P6"],
}


@pytest.mark.parametrize("module", sorted(FIGURES))
def test_benchmark_runs_in_smoke_mode(module: str) -> None:
    produced = importlib.import_module(f"bench.{module}").run(True)
    entries = produced if "figure" not in produced else {produced["id"]: produced}
    assert sorted(entries) == FIGURES[module]
    for entry in entries.values():
        assert {"figure", "goal", "goal_met", "machine"} <= set(entry)
        assert isinstance(entry["goal_met"], bool)
        assert entry["machine"]["cpus"] >= 1
    if module == "bench_scheduler":  # it also checks what it measured
        assert entries["P6"]["every_step_sent_exactly_once"] is True
