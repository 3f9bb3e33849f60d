"""Monte-Carlo simulation of scenarios on the real engine (`seqengine simulate`).

`scenario` reads and checks the YAML, `runner` plays the outside world against a
SequenceEngine on the simulated clock and in-memory store, `results` turns what the
engine left into a funnel, workload and overdue counts, `outputs` and `plots` write
them. YAML, matplotlib and tqdm come from the `sim` extra and are imported only here.
"""

from engine.runtime.simulation.schema import ScenarioError

__all__ = ["ScenarioError"]
