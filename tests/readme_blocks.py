"""The README's code blocks, by section, for the tests that run them as printed."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def code_blocks(heading: str, language: str) -> list[str]:
    """The ```language blocks of the README section `## heading`, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end != -1 else None]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def shell_commands(block: str) -> list[str]:
    """A shell block's commands, continuation lines joined, comments dropped."""
    commands, pending = [], ""
    for line in block.splitlines():
        pending += line.removesuffix("\\") + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            if pending.strip() and not pending.lstrip().startswith("#"):
                commands.append(pending.strip())
            pending = ""
    return commands
