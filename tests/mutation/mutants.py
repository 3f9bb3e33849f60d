"""Mutation testing driver (mutmut, configured in pyproject.toml): see docs/testing.md.

    python tests/mutation/mutants.py report    # scores per package -> docs/testing.md
    python tests/mutation/mutants.py sample    # CI: mutants of recently changed files, capped

`sample` runs mutmut on the engine files the last commits touched, stops it at the
time cap, and fails if a mutant survived that tests/mutation/explained.txt does not
explain (an equivalent mutant, or one mutmut cannot measure).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTMUT = str(Path(sys.executable).with_name("mutmut"))
PACKAGES = ("timeline", "domain", "app", "wire")
EXCLUDED = {"engine/app/execution.py"}  # being rewritten (issue 4)
DOC = ROOT / "docs" / "testing.md"
BEGIN, END = "<!-- mutation-scores:begin -->", "<!-- mutation-scores:end -->"
ENV = {**os.environ, "SEQENGINE_HYPOTHESIS_PROFILE": "mutation"}


def results() -> dict[str, str]:
    out = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=ROOT, env=ENV,
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def explained() -> set[str]:
    path = Path(__file__).with_name("explained.txt")
    return {line.split()[0] for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def scores(
    found: dict[str, str],
) -> list[tuple[str, int, int, int, int, float | None, float | None]]:
    """Per package: killed, survivors (no tests included), unexplained survivors, not
    run, killed over behaviour-changing (explained survivors left out), killed over all."""
    rows = []
    known = explained()
    for package in PACKAGES:
        statuses = Counter(status for name, status in found.items()
                           if name.startswith(f"engine.{package}."))
        killed = statuses["killed"] + statuses["timeout"]
        survived = statuses["survived"]
        untested = statuses["no tests"]
        unexplained = sum(1 for name, status in found.items()
                          if name.startswith(f"engine.{package}.")
                          and status in ("survived", "no tests") and name not in known)
        checked = killed + survived + untested
        behaviour = checked - (survived + untested - unexplained)  # explained ones left out
        rows.append((package, killed, survived + untested, unexplained,
                     statuses["not checked"],
                     None if not behaviour else 100 * killed / behaviour,
                     None if not checked else 100 * killed / checked))
    return rows


def report() -> None:
    table = ["| package | killed | survived (incl. no tests) | of those unexplained | "
             "not run | killed / behaviour-changing | killed / all |",
             "|---|---|---|---|---|---|---|"]
    for package, killed, survived, unexplained, not_run, score, raw in scores(results()):
        shown = "-" if score is None else f"{score:.1f}%"
        everything = "-" if raw is None else f"{raw:.1f}%"
        table.append(f"| engine/{package} | {killed} | {survived} | {unexplained} | "
                     f"{not_run} | {shown} | {everything} |")
    text = DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + "\n".join(table) + "\n" + text[end:])
    print("\n".join(table))


def changed_patterns(commits: int) -> list[str]:
    out = subprocess.run(["git", "diff", "--name-only", f"HEAD~{commits}", "--", "engine"],
                         cwd=ROOT, capture_output=True, text=True, check=False).stdout
    patterns = []
    for path in out.split():
        match = re.fullmatch(r"engine/(timeline|domain|app|wire)/(\w+)\.py", path)
        if match and path not in EXCLUDED and (ROOT / path).exists():
            patterns.append(f"engine.{match[1]}.{match[2]}.*")
    return patterns


def sample(commits: int = 3, cap_seconds: int = 150) -> int:
    patterns = changed_patterns(commits)
    if not patterns:
        print("mutation sample: no engine file changed in the last commits")
        return 0
    print("mutation sample:", " ".join(patterns))
    run = subprocess.Popen([MUTMUT, "run", "--max-children", "2", *patterns], cwd=ROOT,
                           env=ENV, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        run.wait(timeout=cap_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGINT)  # time cap: keep what was measured
        try:
            run.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    known = explained()
    found = results()
    prefixes = tuple(pattern[:-1] for pattern in patterns)
    sampled = {n: s for n, s in found.items() if n.startswith(prefixes)}
    counts = Counter(sampled.values())
    print("mutation sample:", dict(counts))
    bad = sorted(n for n, s in sampled.items() if s == "survived" and n not in known)
    for name in bad:
        print("  survived, not explained:", name)
    return 1 if bad else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "report"
    if command == "report":
        report()
    elif command == "sample":
        sys.exit(sample())
    else:
        sys.exit(f"unknown command {command!r}: report or sample")
