"""Writes docs/lifecycles.md: Mermaid diagrams generated from the transition tables."""

import sys
from pathlib import Path

from engine.domain.lifecycles import LIFECYCLES


def lifecycles_markdown() -> str:
    parts = [
        "# Lifecycles\n",
        "Generated from the transition tables in `engine/domain/lifecycles.py` "
        "by `make diagrams`; a test keeps this file in step with them.\n",
    ]
    for lifecycle in LIFECYCLES:
        parts.append(f"\n## {lifecycle.name}\n\n```mermaid\n{lifecycle.mermaid()}```\n")
    return "".join(parts)


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "docs/lifecycles.md")
    target.write_text(lifecycles_markdown(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
