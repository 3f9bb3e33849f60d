"""What the commands print: a short human summary, or JSON with --json."""

import argparse
import json
from collections.abc import Sequence
from typing import Any


def emit(document: Any) -> None:
    print(json.dumps(document, indent=2), flush=True)


def show(args: argparse.Namespace, document: Any, human: str) -> None:
    """`document` as JSON with --json, else the `human` text."""
    if args.json:
        emit(document)
    else:
        print(human, flush=True)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns under a header and a rule of dashes."""
    cells = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
