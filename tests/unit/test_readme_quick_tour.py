"""The README's quick tour runs as printed and shows step 0 sent, step 1 planned."""

import json
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_quick_tour_runs_and_prints_the_seed_shaped_enrollment() -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert code is not None
    done = subprocess.run([sys.executable, "-c", code.group(1)], capture_output=True, text=True,
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
