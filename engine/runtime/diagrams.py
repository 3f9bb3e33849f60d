"""Writes docs/lifecycles.md from the transition tables: for each lifecycle a picture
(docs/img/, drawn by engine.runtime.drawings), its transition table and a Mermaid
diagram. `make diagrams` runs it; a test keeps the page in step with the tables."""

import sys
from pathlib import Path

from engine.domain.lifecycles import LIFECYCLES

INTRO = """\
# Lifecycles

An enrollment and each of its step actions move through small state machines.
Every change the engine makes is one of the transitions below; anything else is
refused with a clear error that names the current state and the allowed targets
(HTTP 422). The pictures, tables and diagrams on this page are generated from the
transition tables the engine itself runs (`engine/domain/lifecycles.py`), so they
cannot drift from the code.

- **Enrollment**: `active` until its current email fails (`blocked`) or it
  finishes; a blocked enrollment is resumed by `PUT state=active`. `finished`
  is terminal and records why (`finished_reason`).
- **Email action**: `scheduled`, then `in_progress` while the send is under way,
  then `completed`, or `blocked` with a failure reason.
- **Task action**: `scheduled`, then `in_progress` once the task exists, then
  `completed` when the user completes the task.
"""


def lifecycles_markdown() -> str:
    from engine.runtime.drawings import image_name

    parts = [INTRO]
    for lifecycle in LIFECYCLES:
        rows = "".join(
            f"| {', '.join(f'`{s.value}`' for s in t.sources)} "
            f"| `{t.trigger}` | `{t.dest.value}` |\n"
            for t in lifecycle.table
        )
        parts.append(
            f"\n## {lifecycle.name}\n\n"
            f"![The {lifecycle.name} lifecycle](img/{image_name(lifecycle)})\n\n"
            f"| from | trigger | to |\n|---|---|---|\n{rows}\n"
            f"```mermaid\n{lifecycle.mermaid()}```\n"
        )
    return "".join(parts)


def main(argv: list[str]) -> int:
    from engine.runtime.drawings import write_images

    target = Path(argv[0] if argv else "docs/lifecycles.md")
    target.write_text(lifecycles_markdown(), encoding="utf-8")
    write_images(target.parent / "img")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
