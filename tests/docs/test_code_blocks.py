"""Every code block of the README and the docs runs as printed (see code_blocks.py for
the convention and the opt-out marker)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from code_blocks import ROOT, SHELLS, Block, blocks, commands, pages

SEQENGINE = Path(sys.executable).with_name("seqengine")

# runs a page's steps in one interpreter: python blocks share one namespace
DRIVER = r"""
import json, subprocess, sys, traceback
steps = json.loads(sys.stdin.read())
namespace = {"__name__": "__main__"}
for step in steps:
    if step["kind"] == "python":
        try:
            exec(compile(step["code"], step["where"], "exec"), namespace)
        except BaseException:
            print(f"FAILED {step['where']}\n{traceback.format_exc()}", file=sys.stderr)
            raise SystemExit(1)
        continue
    for argv in step["commands"]:
        done = subprocess.run([step["seqengine"], *argv], capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            print(f"FAILED {step['where']}: seqengine {' '.join(argv)}\n{done.stderr}",
                  file=sys.stderr)
            raise SystemExit(1)
        missing = [line for line in step["expected"] if line not in done.stdout]
        if missing:
            print(f"FAILED {step['where']}: output lacks {missing[0]!r}\n{done.stdout}",
                  file=sys.stderr)
            raise SystemExit(1)
"""


def steps(page: Path) -> list[dict[str, object]]:
    planned: list[dict[str, object]] = []
    for block in blocks(page):
        if block.opted_out is not None:
            continue
        if block.language == "python":
            planned.append({"kind": "python", "code": block.code, "where": block.where})
        elif block.language in SHELLS:
            planned.append(
                {
                    "kind": "sh",
                    "commands": commands(block),
                    "where": block.where,
                    "expected": block.expected,
                    "seqengine": str(SEQENGINE),
                }
            )
    return planned


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_page_code_runs_as_printed(page: Path, tmp_path: Path) -> None:
    planned = steps(page)
    if not planned:
        return  # nothing runnable on this page; opted-out blocks were checked for a reason
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PATH": f"{SEQENGINE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(planned),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def test_the_convention_is_enforced(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```sh\ncurl -s http://x\n```\n\n"
        "<!-- not-tested: needs a server -->\n```sh\nseqengine serve\n```\n\n"
        "```sh\nseqengine worker\n```\n\n"
        "```sh\nseqengine timeline a.json \\\n  --start 2026-01-01T00:00:00Z\n```\n"
        "Prints:\n\n```text\nposition  action\n```\n",
        encoding="utf-8",
    )
    import code_blocks

    found = blocks(page)
    assert [b.language for b in found] == ["sh", "sh", "sh", "sh", "text"]
    assert found[1].opted_out == "needs a server"
    assert found[3].expected == ["position  action"]
    for unmarked in (found[0], found[2]):
        with pytest.raises(ValueError, match="not-tested"):
            commands(Block(ROOT / "README.md", 1, "sh", unmarked.code))
    assert commands(found[3]) == [["timeline", "a.json", "--start", "2026-01-01T00:00:00Z"]]
    assert code_blocks.pages()[0].name == "README.md"


def test_every_opt_out_gives_a_reason_and_every_shell_block_is_decided() -> None:
    for page in pages():
        for block in blocks(page):
            if block.language in SHELLS and block.opted_out is None:
                commands(block)  # raises with the page and line when undecided
