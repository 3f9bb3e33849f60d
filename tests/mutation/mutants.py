"""Mutation testing driver (mutmut, configured in pyproject.toml): see docs/testing.md.

    python tests/mutation/mutants.py report    # scores per package -> docs/testing.md
    python tests/mutation/mutants.py sample    # CI: a fixed sample of recently changed files
    python tests/mutation/mutants.py rerun N   # every survivor again (N children)
    python tests/mutation/mutants.py survivors # the unexplained ones, as explained.txt lines
    python tests/mutation/mutants.py refresh   # a kept mutants/ gets engine's data files

`sample` picks mutants of the engine files the last commits touched, the same ones
for the same commit, runs them in a scratch copy of the repository (a fresh clone
has no mutants/ cache, and a developer's cache is left alone), and fails if one
survives that tests/mutation/explained.txt does not explain.

A survivor is explained when explained.txt lists a mutant of the same function that
makes the same change (the mutated line): mutmut numbers mutants by position, so an
edit elsewhere in a function renumbers them, and a name alone would then point at a
different mutant.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTMUT = str(Path(sys.executable).with_name("mutmut"))
PACKAGES = ("timeline", "domain", "app", "wire")
EXPLAINED = Path(__file__).with_name("explained.txt")
DOC = ROOT / "docs" / "testing.md"
BEGIN, END = "<!-- mutation-scores:begin -->", "<!-- mutation-scores:end -->"
ENV = {**os.environ, "SEQENGINE_HYPOTHESIS_PROFILE": "mutation"}
COPIED = ("engine", "tests", "docs", "examples", "README.md", "pyproject.toml")
SURVIVING = ("survived", "no tests")

# Mutant generation only, as `mutmut run` starts (mutmut 3.8, pinned in the lock):
# the sample needs the mutants' names before it picks which to run.
GENERATE = """
from mutmut.__main__ import (copy_also_copy_files, copy_src_dir, create_mutants,
                             setup_source_paths)
import os
os.makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(2)
"""


def results(cwd: Path = ROOT) -> dict[str, str]:
    out = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=cwd, env=ENV,
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def function_of(name: str) -> str:
    return name.rpartition("__mutmut_")[0]


def change_of(name: str, cwd: Path = ROOT) -> str:
    """The mutated line(s) of a mutant, stripped: what it changes in its function."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    here = Path.cwd()
    os.chdir(cwd)
    try:
        diff = get_diff_for_mutant(name)
    finally:
        os.chdir(here)
    return " / ".join(line[1:].strip() for line in diff.splitlines()
                      if line.startswith("+") and not line.startswith("+++"))


def explained() -> dict[tuple[str, str], str]:
    """(function, change) -> reason, from lines `name reason | change`."""
    known = {}
    for line in EXPLAINED.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        head, _, change = line.partition(" | ")
        name, _, reason = head.partition(" ")
        known[(function_of(name), change.strip())] = reason.strip()
    return known


def unexplained(survivors: list[str], cwd: Path = ROOT) -> list[str]:
    known = explained()
    return sorted(name for name in survivors
                  if (function_of(name), change_of(name, cwd)) not in known)


def scores(found: dict[str, str]) -> list[tuple[str, int, int, int, int, float | None,
                                                  float | None]]:
    """Per package: killed, survivors (no tests included), unexplained survivors, not
    run, killed over behaviour-changing (explained survivors left out), killed over all."""
    rows = []
    for package in PACKAGES:
        mine = {name: status for name, status in found.items()
                if name.startswith(f"engine.{package}.")}
        statuses = Counter(mine.values())
        killed = statuses["killed"] + statuses["timeout"]
        survivors = [name for name, status in mine.items() if status in SURVIVING]
        left = len(unexplained(survivors))
        checked = killed + len(survivors)
        behaviour = killed + left  # explained survivors left out
        rows.append((package, killed, len(survivors), left, statuses["not checked"],
                     None if not behaviour else 100 * killed / behaviour,
                     None if not checked else 100 * killed / checked))
    return rows


def report() -> None:
    table = ["| package | killed | survived (incl. no tests) | of those unexplained | "
             "not run | killed / behaviour-changing | killed / all |",
             "|---|---|---|---|---|---|---|"]
    for package, killed, survived, left, not_run, score, raw in scores(results()):
        shown = "-" if score is None else f"{score:.1f}%"
        everything = "-" if raw is None else f"{raw:.1f}%"
        table.append(f"| engine/{package} | {killed} | {survived} | {left} | "
                     f"{not_run} | {shown} | {everything} |")
    text = DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + "\n".join(table) + "\n" + text[end:])
    print("\n".join(table))


def survivors_report() -> None:
    """Every unexplained survivor with its change, for explaining or killing."""
    found = results()
    for name in unexplained([n for n, s in found.items() if s in SURVIVING]):
        print(f"{name} ? | {change_of(name)}")


def rerun(children: int) -> None:
    """Test every survivor again: a verdict stands until its function changes, but a
    survivor may have been killed by a test written since."""
    names = sorted(n for n, s in results().items() if s in SURVIVING)
    for start in range(0, len(names), 200):  # keeps the command line short
        subprocess.run([MUTMUT, "run", "--max-children", str(children),
                        *names[start:start + 200]], cwd=ROOT, env=ENV, check=False)


def refresh() -> None:
    """Copy engine's changed non-Python files (the SQL) into a kept mutants/ copy:
    mutmut rewrites the Python files it mutates on every run but copies the others
    only when it creates mutants/, so a changed query would otherwise fail its clean
    test run."""
    copy = ROOT / "mutants" / "engine"
    if not copy.is_dir():
        return
    for source in (ROOT / "engine").rglob("*"):
        if source.is_file() and source.suffix not in (".py", ".pyc"):
            target = copy / source.relative_to(ROOT / "engine")
            if not target.exists() or target.read_bytes() != source.read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


# -- the CI sample -----------------------------------------------------------------------

def changed_files(commits: int) -> list[str]:
    """Engine files of the mutated packages that the last `commits` commits touched
    (fewer on a shallow clone; on a clone of one commit, that commit's files)."""
    out = None
    for back in range(commits, 0, -1):
        run = subprocess.run(["git", "diff", "--name-only", f"HEAD~{back}", "HEAD", "--",
                              "engine"], cwd=ROOT, capture_output=True, text=True)
        if run.returncode == 0:
            out = run.stdout
            break
    if out is None:
        out = subprocess.run(["git", "show", "--name-only", "--format=", "HEAD", "--",
                              "engine"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    pattern = re.compile(r"engine/(" + "|".join(PACKAGES) + r")/\w+\.py")
    return sorted({path for path in out.split()
                   if pattern.fullmatch(path) and (ROOT / path).exists()})


def scratch_copy(work: Path, files: list[str]) -> None:
    """The repository's tested parts in `work`, mutmut told to mutate only `files`."""
    skip = shutil.ignore_patterns("__pycache__", ".hypothesis", "mutants")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=skip)
        else:
            shutil.copy2(source, work / name)
    config = (work / "pyproject.toml").read_text()
    config, count = re.subn(r"(?m)^only_mutate = .*$", "only_mutate = " + json.dumps(files),
                            config)
    assert count == 1, "pyproject.toml: [tool.mutmut] only_mutate not found"
    (work / "pyproject.toml").write_text(config)


def generated_names(work: Path, files: list[str]) -> list[str]:
    subprocess.run([sys.executable, "-c", GENERATE], cwd=work, env=ENV, check=True,
                   stdout=subprocess.DEVNULL)
    names = []
    for path in files:
        meta = json.loads((work / "mutants" / f"{path}.meta").read_text())
        names += meta["exit_code_by_key"]
    return names


def pick(names: list[str], size: int) -> list[str]:
    """The same `size` mutants for the same code: ordered by a hash of the name."""
    return sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())[:size]


def run_capped(work: Path, names: list[str], cap_seconds: float) -> bool:
    """mutmut on `names`; False if the time cap stopped it (what ran is kept)."""
    run = subprocess.Popen([MUTMUT, "run", "--max-children", "2", *names], cwd=work,
                           env=ENV, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        run.wait(timeout=cap_seconds)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        return False


def sample(commits: int = 3, size: int = 30, cap_seconds: float = 200) -> int:
    started = time.monotonic()
    files = changed_files(commits)
    if not files:
        print("mutation sample: no engine file of", ", ".join(PACKAGES),
              "changed in the last commits")
        return 0
    with tempfile.TemporaryDirectory(prefix="seqengine-mutants-") as scratch:
        work = Path(scratch)
        scratch_copy(work, files)
        names = generated_names(work, files)
        chosen = pick(names, size)
        print(f"mutation sample: {len(chosen)} of {len(names)} mutants of", " ".join(files))
        finished = run_capped(work, chosen, cap_seconds)
        found = results(work)
        statuses = {name: found.get(name, "not checked") for name in chosen}
        print("mutation sample:", dict(Counter(statuses.values())),
              f"in {time.monotonic() - started:.0f} s")
        if not finished:
            print(f"mutation sample: stopped at the {cap_seconds:.0f} s cap; the mutants "
                  "not checked were not run")
        bad = unexplained([n for n, s in statuses.items() if s in SURVIVING], work)
        for name in bad:
            print(f"  survived, not explained: {name} | {change_of(name, work)}")
        if bad:
            print("Kill each with a test, or explain it in tests/mutation/explained.txt "
                  "(docs/testing.md, 'Mutation testing').")
    return 1 if bad else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "report"
    if command == "report":
        report()
    elif command == "sample":
        sys.exit(sample())
    elif command == "rerun":
        rerun(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    elif command == "survivors":
        survivors_report()
    elif command == "refresh":
        refresh()
    else:
        sys.exit(f"unknown command {command!r}: report, sample, rerun, survivors or refresh")
