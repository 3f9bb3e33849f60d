"""What-if planning for `seqengine timeline`: a sequence file, a start and a calendar in,
each step's planned time out, exactly as a new enrollment would show it."""

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.app.views import EnrollmentView
from engine.domain.enrollment import Enrollment
from engine.domain.enums import ResourceType
from engine.domain.sequence import Sequence
from engine.errors import InvalidPayload
from engine.runtime.output import table
from engine.timeline import calendar_for
from engine.wire.parse import parse_instant, parse_sequence
from engine.wire.render import enrollment_data, format_instant


@dataclass(frozen=True, slots=True)
class PlannedStep:
    position: int
    action: str
    delay: str
    local: str
    utc: str


def plan_sequence_file(
    path: str,
    *,
    start: str,
    time_zone: str = "UTC",
    holidays: str | None = None,
    send_window: str | None = None,
    weekmask: str = "1111100",
) -> tuple[dict[str, Any], list[PlannedStep]]:
    """The `enrollment_steps` wire collection and the table rows for one what-if."""
    document = read_sequence_file(path)
    document.setdefault("name", Path(path).stem)  # a what-if needs no name
    sequence_input = parse_sequence(document, partial=False)
    began = parse_instant(start)
    calendar = calendar_for(time_zone, holidays, weekmask, send_window)
    steps = sequence_input.steps or ()
    sequence = Sequence(0, 0, sequence_input.name or "", 0, began, began, steps)
    enrollment = Enrollment.start(
        id=0,
        account_id=0,
        actor_id=0,
        sequence_id=0,
        resource_type=ResourceType.LEAD,
        resource_id=0,
        steps=steps,
        now=began,
        calendar=calendar,
    )
    wire = enrollment_data(EnrollmentView(enrollment, sequence, None))["enrollment_steps"]
    zone = ZoneInfo(time_zone)
    rows = []
    for step, action in zip(steps, enrollment.actions, strict=True):
        planned: datetime | None = action.estimated_execute_at
        rows.append(
            PlannedStep(
                position=step.position,
                action=str(step.action_type),
                delay=f"+{step.delay_from_previous_step} {step.delay_from_previous_step_unit}",
                local=planned.astimezone(zone).strftime("%a %Y-%m-%d %H:%M:%S %Z")
                if planned
                else "-",
                utc=format_instant(planned) or "-",
            )
        )
    return wire, rows


def read_sequence_file(path: str) -> dict[str, Any]:
    """A sequence object from a JSON file, bare or wrapped in `data` as on the wire."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error.msg} at line {error.lineno})"
        ) from error
    if isinstance(document, dict) and isinstance(document.get("data"), dict):
        document = document["data"]
    if not isinstance(document, dict):
        raise InvalidPayload(f"{path} must hold a sequence object, optionally wrapped in 'data'")
    return document


def timeline_table(rows: list[PlannedStep]) -> str:
    header = ("position", "action", "delay", "planned (local)", "planned (UTC)")
    return table(header, [(str(r.position), r.action, r.delay, r.local, r.utc) for r in rows])
