"""P7: start-up cost of `seqengine --help` and `import engine`, beside `python -c pass`."""

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import machine

SEQENGINE = Path(sys.executable).with_name("seqengine")


def _seconds(argv: list[str], repeats: int) -> dict[str, float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return {
        "median": round(statistics.median(samples), 4),
        "min": round(min(samples), 4),
        "max": round(max(samples), 4),
    }


def run(quick: bool) -> dict[str, Any]:
    repeats = 3 if quick else 10
    figures = {
        "python_pass": _seconds([sys.executable, "-c", "pass"], repeats),
        "import_engine": _seconds([sys.executable, "-c", "import engine"], repeats),
        "cli_help": _seconds([str(SEQENGINE), "--help"], repeats),
    }
    return {
        "P7": {
            "figure": "P7: start-up",
            "seconds": figures,
            "ratios": {
                "import_vs_python": round(
                    figures["import_engine"]["median"] / figures["python_pass"]["median"], 2
                )
            },
            "goal": "CLI help <= 0.5 s; import <= 0.2 s",
            "goal_met": figures["cli_help"]["median"] <= 0.5
            and figures["import_engine"]["median"] <= 0.2,
            "machine": machine(),
        }
    }
