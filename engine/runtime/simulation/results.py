"""What a run found, as plain data: the summary document and the tables behind it.

The funnel, finished reasons and times to finish are read from the enrollments as
the engine left them; workload and overdue counts come from the tally kept while
the run went on.
"""

import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from engine.domain.enrollment import Enrollment
from engine.domain.enums import ActionStatus, FinishedReason
from engine.runtime.simulation.runner import Outcome

Row = dict[str, Any]
STARTED = (ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED, ActionStatus.COMPLETED)
ONGOING = "ongoing"


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat().replace("+00:00", "Z")


def reached(enrollment: Enrollment, position: int) -> bool:
    """Whether the engine acted on this step: an email was tried or a task created."""
    action = enrollment.actions[position]
    return (
        action.status in STARTED or action.task_id is not None or action.failure_reason is not None
    )


def funnel_rows(outcome: Outcome) -> list[Row]:
    """Per sequence and step: how many reached it, completed it, or dropped out there."""
    rows: dict[tuple[str, int], Row] = {}
    for spec in outcome.scenario.sequences:
        for step in spec.steps:
            rows[(spec.name, step.position)] = {
                "sequence": spec.name,
                "position": step.position,
                "action": step.action_type.value,
                "enrolled_here": 0,
                "reached": 0,
                "completed": 0,
                "still_here": 0,
                **{
                    f"dropped_{r.value}": 0
                    for r in FinishedReason
                    if r is not FinishedReason.ALL_STEPS_COMPLETED
                },
            }
    for view in outcome.views:
        e = view.enrollment
        name = outcome.sequence_names[e.sequence_id]
        rows[(name, 0)]["enrolled_here"] += 1
        for position in range(len(e.steps)):
            row = rows[(name, position)]
            row["reached"] += reached(e, position)
            row["completed"] += e.actions[position].status is ActionStatus.COMPLETED
        here = rows[(name, e.current_step_position)]
        if e.finished_reason is None:
            here["still_here"] += 1
        elif e.finished_reason is not FinishedReason.ALL_STEPS_COMPLETED:
            here[f"dropped_{e.finished_reason.value}"] += 1
    return list(rows.values())


def enrollment_rows(outcome: Outcome) -> list[Row]:
    rows = []
    for view in outcome.views:
        e = view.enrollment
        rows.append(
            {
                "id": e.id,
                "sequence": outcome.sequence_names[e.sequence_id],
                "actor": outcome.actor_names[e.actor_id],
                "resource_type": e.resource_type.value,
                "created_at": iso(e.created_at),
                "state": e.state.value,
                "finished_at": iso(e.finished_at),
                "finished_reason": e.finished_reason.value if e.finished_reason else None,
                "steps_completed": sum(a.status is ActionStatus.COMPLETED for a in e.actions),
                "current_step_position": e.current_step_position,
                "overdue_at_end": view.overdue_position is not None,
            }
        )
    return rows


def workload_rows(outcome: Outcome) -> list[Row]:
    """Per actor and local day: emails sent and tasks created, completed, deleted."""
    tally = outcome.tally
    columns = {
        "emails_sent": tally.emails_sent,
        "tasks_created": tally.tasks_created,
        "tasks_completed": tally.tasks_completed,
        "tasks_deleted": tally.tasks_deleted,
    }
    keys = sorted(set().union(*columns.values()), key=lambda k: (k[1], k[0]))
    return [
        {
            "day": day.isoformat(),
            "actor": actor,
            **{name: counts.get((actor, day), 0) for name, counts in columns.items()},
        }
        for actor, day in keys
    ]


def overdue_rows(outcome: Outcome) -> list[Row]:
    """Per actor, once a simulated day: enrollments whose current step is overdue."""
    return [
        {"day": day.isoformat(), "actor": actor, "overdue": n}
        for (actor, day), n in sorted(
            outcome.tally.overdue.items(), key=lambda i: (i[0][1], i[0][0])
        )
    ]


def timeline_sample(outcome: Outcome) -> list[Row]:
    """The first enrollments by id, with when each step was executed."""
    sample = []
    for view in outcome.views[: outcome.scenario.timeline_sample]:
        e = view.enrollment
        sample.append(
            {
                "id": e.id,
                "sequence": outcome.sequence_names[e.sequence_id],
                "actor": outcome.actor_names[e.actor_id],
                "created_at": iso(e.created_at),
                "finished_at": iso(e.finished_at),
                "finished_reason": e.finished_reason.value if e.finished_reason else ONGOING,
                "steps": [
                    {
                        "position": s.position,
                        "action": s.action_type.value,
                        "status": a.status.value,
                        "executed_at": iso(a.executed_at),
                    }
                    for s, a in zip(e.steps, e.actions, strict=True)
                ],
            }
        )
    return sample


def _days(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "mean": round(statistics.fmean(ordered), 3),
        "median": round(statistics.median(ordered), 3),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def summary(outcome: Outcome) -> dict[str, Any]:
    tally = outcome.tally
    reasons: Counter[str] = Counter()
    to_finish: dict[str, list[float]] = {}
    for view in outcome.views:
        e = view.enrollment
        reason = e.finished_reason.value if e.finished_reason else ONGOING
        reasons[reason] += 1
        if e.finished_at is not None:
            days = (e.finished_at - e.created_at).total_seconds() / 86400
            to_finish.setdefault(reason, []).append(days)
    overdue = overdue_rows(outcome)
    peak: dict[str, int] = {}
    for row in overdue:
        peak[row["actor"]] = max(peak.get(row["actor"], 0), row["overdue"])
    return {
        "scenario": outcome.scenario.name,
        "seed": outcome.seed,
        "enrollments": len(outcome.views),
        "arrivals": outcome.enrollments,
        "start": iso(outcome.scenario.start),
        "end": iso(outcome.end),
        "funnel": funnel_rows(outcome),
        "finished_reasons": dict(sorted(reasons.items())),
        "time_to_finish_days": {
            "all": _days([d for values in to_finish.values() for d in values]),
            **{reason: _days(values) for reason, values in sorted(to_finish.items())},
        },
        "overdue": {"peak_by_actor": peak, "by_day": overdue},
        "workload": workload_rows(outcome),
        "emails": {
            "sent": sum(tally.emails_sent.values()),
            "blocked_by_reason": dict(sorted(tally.blocks.items())),
            "transient_errors": tally.transient_errors,
            "resumed": tally.resumes,
        },
        "tasks": {
            "created": sum(tally.tasks_created.values()),
            "completed": sum(tally.tasks_completed.values()),
            "deleted": sum(tally.tasks_deleted.values()),
        },
        "replies": tally.replies,
        "resources_deleted": tally.resources_deleted,
        "not_enrolled_after_cancellation": tally.not_enrolled,
    }
