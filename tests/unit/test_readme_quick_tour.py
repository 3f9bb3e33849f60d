"""The README's quick tour runs as printed and shows step 0 sent, step 1 planned."""

import json
import subprocess
import sys

from tests.readme_blocks import code_blocks


def test_the_quick_tour_runs_and_prints_the_seed_shaped_enrollment() -> None:
    [code] = code_blocks("Quick tour: the library", "python")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    document = json.loads(done.stdout)
    assert document["meta"] == {"type": "sequence_enrollment"}
    steps = [item["data"]["action"]["data"] for item in
             document["data"]["enrollment_steps"]["items"]]
    assert steps[0]["status"] == "completed"
    assert steps[0]["executed_at"] == "2020-12-15T19:58:53Z"
    # Europe/Warsaw, PL holidays: Wednesday 16 December is a business day
    assert steps[1] == {"status": "scheduled", "executed_at": None,
                        "estimated_execute_at": "2020-12-16T19:58:53Z", "failure_reason": None}


def test_the_snippet_does_not_shadow_the_engine_package() -> None:
    [code] = code_blocks("Quick tour: the library", "python")
    assert "engine =" not in code and "from engine import" in code
