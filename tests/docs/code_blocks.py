"""Finds the code blocks of the README and the docs, and how each is to be tested.

The convention (docs/index.md's readers never see it; writers do):

- ```python blocks run, in page order, in one interpreter per page (a later
  block sees an earlier block's names), in a fresh folder where `examples/`
  is available. They should assert what they claim.
- ```sh blocks run when every command in them is a `seqengine` command
  (`.venv/bin/seqengine` too; `\\` continues a line; `#` lines are comments),
  in the same folder, so a page's commands share one `seqengine.db`. Each must
  exit 0. A ```text block that follows a tested sh block, with only prose in
  between, is its expected output: each of its lines must appear in it.
- Any other sh block, and any command that never returns (`serve`, `worker`),
  needs `<!-- not-tested: reason -->` on the line before its fence.
- Other languages (json, yaml, text, mermaid, none) are shown, not run.
"""

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
OPT_OUT = re.compile(r"<!--\s*not-tested:\s*(\S.*?)\s*-->\s*$")
SHELLS = {"sh", "bash", "shell", "console"}
NEVER_RETURNS = {"serve", "worker"}


@dataclass
class Block:
    page: Path
    line: int
    language: str
    code: str
    opted_out: str | None = None
    expected: list[str] = field(default_factory=list)  # output lines a sh block must print

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    """README.md and every page under docs/ (new pages are picked up by themselves)."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found: list[Block] = []
    previous_end = 0
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = OPT_OUT.search(before)
        block = Block(
            page,
            text.count("\n", 0, match.start()) + 1,
            match.group(1).lower(),
            match.group(2),
            marker.group(1) if marker else None,
        )
        last = found[-1] if found else None
        if (
            block.language == "text"
            and last is not None
            and last.language in SHELLS
            and last.opted_out is None
            and "```" not in text[previous_end : match.start()]
        ):
            last.expected = [line for line in block.code.splitlines() if line.strip()]
        found.append(block)
        previous_end = match.end()
    return found


def commands(block: Block) -> list[list[str]]:
    """The commands of a sh block as argument lists; ValueError if it cannot be run."""
    joined = re.sub(r"\\\n\s*", " ", block.code)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line, comments=True)
        if not argv or argv[0] not in ("seqengine", ".venv/bin/seqengine"):
            raise ValueError(
                f"{block.where}: a sh block runs only seqengine commands; mark it "
                f"<!-- not-tested: reason --> (found: {line[:40]!r})"
            )
        if set(argv[1:]) & NEVER_RETURNS:
            raise ValueError(
                f"{block.where}: `seqengine {argv[1]}` never returns; mark the block "
                "<!-- not-tested: reason -->"
            )
        found.append(argv[1:])
    return found
