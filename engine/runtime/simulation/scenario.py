"""A simulation scenario: sequences, actors with calendars, how enrollments arrive and
how prospects and users behave. Read from YAML and checked before anything runs."""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from engine.domain.enums import FailureReason, LimitPolicy, ResourceType
from engine.domain.sequence import Step
from engine.errors import EngineError
from engine.runtime.simulation.distributions import Delay, read_delay
from engine.runtime.simulation.schema import (
    ScenarioError,
    instant,
    integer,
    mapping,
    number,
    probability,
    sequence_of,
    text,
    weights,
)
from engine.timeline import calendar_for


@dataclass(frozen=True, slots=True)
class SequenceSpec:
    name: str
    steps: tuple[Step, ...]
    reply_probability: tuple[float, ...]  # by step position (0 for task steps)


@dataclass(frozen=True, slots=True)
class ActorSpec:
    name: str
    time_zone: str = "UTC"
    holidays: str | None = None
    weekmask: str = "1111100"
    send_window: str | None = None
    daily_email_limit: int = 300


@dataclass(frozen=True, slots=True)
class Arrivals:
    count: int
    start: datetime
    period: timedelta
    resource_types: dict[str, float]
    sequences: dict[str, float]
    actors: dict[str, float]


@dataclass(frozen=True, slots=True)
class Chance:
    """Something that happens with `probability`, after a drawn delay."""

    probability: float
    delay: Delay


A_DAY, FOUR_HOURS = Delay("fixed", 24.0), Delay("fixed", 4.0)


@dataclass(frozen=True, slots=True)
class Behaviour:
    reply_delay: Delay = A_DAY
    task_completion: Delay = FOUR_HOURS
    task_deletion_rate: float = 0.0
    failures: dict[FailureReason, float] = field(default_factory=dict)
    transient_error_rate: float = 0.0
    resume_blocked: Chance | None = None
    resource_deletion: Chance | None = None
    subscription_cancelled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    start: datetime
    end: datetime
    seed: int
    limit_policy: LimitPolicy
    sequences: tuple[SequenceSpec, ...]
    actors: tuple[ActorSpec, ...]
    arrivals: Arrivals
    behaviour: Behaviour
    overdue_snapshots: bool = True
    timeline_sample: int = 25


TOP = {
    "name",
    "start",
    "days",
    "seed",
    "limit_policy",
    "sequences",
    "actors",
    "arrivals",
    "behaviour",
    "report",
}


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; ScenarioError names the first problem found."""
    import yaml  # the `sim` extra; imported here so that `import engine` stays light

    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{path} is not valid YAML{where}") from None
    return read_scenario(document, base=path.parent, at=path.name)


def read_scenario(document: Any, *, base: Path = Path("."), at: str = "scenario") -> Scenario:
    top = mapping(document, at, TOP, {"start", "sequences", "actors", "arrivals"})
    start = instant(top["start"], f"{at}.start")
    sequences = tuple(
        _sequence(item, f"{at}.sequences[{i}]", base)
        for i, item in enumerate(sequence_of(top["sequences"], f"{at}.sequences"))
    )
    actors = tuple(
        _actor(item, f"{at}.actors[{i}]")
        for i, item in enumerate(sequence_of(top["actors"], f"{at}.actors"))
    )
    for kind, names in (
        ("sequence", [s.name for s in sequences]),
        ("actor", [a.name for a in actors]),
    ):
        if len(set(names)) != len(names):
            raise ScenarioError(f"{at}: two {kind}s share a name; each needs its own")
    arrivals = _arrivals(top["arrivals"], f"{at}.arrivals", start, sequences, actors)
    behaviour = _behaviour(top.get("behaviour", {}), f"{at}.behaviour")
    days = number(top.get("days", arrivals.period.days + 30), f"{at}.days", 1)
    last_arrival, end = arrivals.start + arrivals.period, start + timedelta(days=days)
    if arrivals.start < start or last_arrival > end:
        raise ScenarioError(
            f"{at}.arrivals must fall inside the simulated time ({_iso(start)} to {_iso(end)}), "
            f"but run from {_iso(arrivals.start)} to {_iso(last_arrival)}"
        )
    report = mapping(
        top.get("report", {}), f"{at}.report", {"overdue_snapshots", "timeline_sample"}
    )
    snapshots = report.get("overdue_snapshots", True)
    if not isinstance(snapshots, bool):
        raise ScenarioError(f"{at}.report.overdue_snapshots must be true or false")
    policy = top.get("limit_policy", "block")
    if policy not in ("block", "defer"):
        raise ScenarioError(f"{at}.limit_policy must be block or defer, got {policy!r}")
    return Scenario(
        name=text(top.get("name", at), f"{at}.name"),
        start=start,
        end=end,
        seed=integer(top.get("seed", 0), f"{at}.seed"),
        limit_policy=LimitPolicy(policy),
        sequences=sequences,
        actors=actors,
        arrivals=arrivals,
        behaviour=behaviour,
        overdue_snapshots=snapshots,
        timeline_sample=integer(report.get("timeline_sample", 25), f"{at}.report.timeline_sample"),
    )


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _sequence(value: Any, at: str, base: Path) -> SequenceSpec:
    from engine.wire.parse import parse_sequence

    found = mapping(value, at, {"name", "file", "steps", "reply_probability"}, {"name"})
    name = text(found["name"], f"{at}.name")
    if ("file" in found) == ("steps" in found):
        raise ScenarioError(f"{at} needs either steps or file (a sequence JSON file), not both")
    if "file" in found:
        source = base / text(found["file"], f"{at}.file")
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
        except OSError as error:
            raise ScenarioError(f"{at}.file: cannot read {source}: {error.strerror}") from None
        except ValueError as error:
            raise ScenarioError(f"{at}.file: {source} is not valid JSON ({error})") from None
        if isinstance(document, dict) and isinstance(document.get("data"), dict):
            document = document["data"]
        steps_value = document.get("steps") if isinstance(document, dict) else None
    else:
        steps_value = found["steps"]
    try:
        steps = parse_sequence({"name": name, "steps": steps_value}, partial=False).steps or ()
    except EngineError as error:
        raise ScenarioError(f"{at}.steps: {error.message}") from None
    if not steps:
        raise ScenarioError(f"{at} has no steps")
    replies = _reply_probability(
        found.get("reply_probability", 0.0), f"{at}.reply_probability", steps
    )
    return SequenceSpec(name, steps, replies)


def _reply_probability(value: Any, at: str, steps: tuple[Step, ...]) -> tuple[float, ...]:
    """One number for every email step, or a list by step position."""
    if isinstance(value, list):
        if len(value) != len(steps):
            raise ScenarioError(f"{at} lists {len(value)} probabilities for {len(steps)} steps")
        read = [probability(v, f"{at}[{i}]") for i, v in enumerate(value)]
    else:
        read = [probability(value, at)] * len(steps)
    return tuple(p if step.is_email else 0.0 for p, step in zip(read, steps, strict=True))


def _actor(value: Any, at: str) -> ActorSpec:
    keys = {"name", "time_zone", "holidays", "weekmask", "send_window", "daily_email_limit"}
    found = mapping(value, at, keys, {"name"})
    actor = ActorSpec(
        name=text(found["name"], f"{at}.name"),
        time_zone=text(found.get("time_zone", "UTC"), f"{at}.time_zone"),
        holidays=text(found["holidays"], f"{at}.holidays") if found.get("holidays") else None,
        weekmask=text(found.get("weekmask", "1111100"), f"{at}.weekmask"),
        send_window=text(found["send_window"], f"{at}.send_window")
        if found.get("send_window")
        else None,
        daily_email_limit=integer(found.get("daily_email_limit", 300), f"{at}.daily_email_limit"),
    )
    try:
        calendar_for(actor.time_zone, actor.holidays, actor.weekmask, actor.send_window)
    except (ValueError, EngineError) as error:
        raise ScenarioError(f"{at}: {getattr(error, 'message', None) or error}") from None
    return actor


def _arrivals(
    value: Any,
    at: str,
    start: datetime,
    sequences: tuple[SequenceSpec, ...],
    actors: tuple[ActorSpec, ...],
) -> Arrivals:
    keys = {"count", "start", "period_days", "resource_types", "sequences", "actors"}
    found = mapping(value, at, keys, {"count"})
    sequence_names, actor_names = [s.name for s in sequences], [a.name for a in actors]
    return Arrivals(
        count=integer(found["count"], f"{at}.count"),
        start=instant(found["start"], f"{at}.start") if "start" in found else start,
        period=timedelta(days=number(found.get("period_days", 5), f"{at}.period_days")),
        resource_types=weights(
            found.get("resource_types", {"lead": 1}),
            f"{at}.resource_types",
            [t.value for t in ResourceType],
        ),
        sequences=weights(
            found.get("sequences", dict.fromkeys(sequence_names, 1)),
            f"{at}.sequences",
            sequence_names,
        ),
        actors=weights(
            found.get("actors", dict.fromkeys(actor_names, 1)), f"{at}.actors", actor_names
        ),
    )


def _behaviour(value: Any, at: str) -> Behaviour:
    keys = {
        "reply_delay",
        "task_completion",
        "task_deletion_rate",
        "failures",
        "transient_error_rate",
        "resume_blocked",
        "resource_deletion",
        "subscription_cancelled_at",
    }
    found = mapping(value, at, keys)
    failures = mapping(
        found.get("failures", {}), f"{at}.failures", [r.value for r in FailureReason]
    )
    rates = {FailureReason(k): probability(v, f"{at}.failures.{k}") for k, v in failures.items()}
    if sum(rates.values()) > 1:
        raise ScenarioError(f"{at}.failures: the rates add up to more than 1")
    defaults = Behaviour()
    cancelled = found.get("subscription_cancelled_at")
    return Behaviour(
        reply_delay=read_delay(found["reply_delay"], f"{at}.reply_delay")
        if "reply_delay" in found
        else defaults.reply_delay,
        task_completion=read_delay(found["task_completion"], f"{at}.task_completion")
        if "task_completion" in found
        else defaults.task_completion,
        task_deletion_rate=probability(
            found.get("task_deletion_rate", 0.0), f"{at}.task_deletion_rate"
        ),
        failures=rates,
        transient_error_rate=probability(
            found.get("transient_error_rate", 0.0), f"{at}.transient_error_rate"
        ),
        resume_blocked=_chance(found.get("resume_blocked"), f"{at}.resume_blocked"),
        resource_deletion=_chance(found.get("resource_deletion"), f"{at}.resource_deletion"),
        subscription_cancelled_at=instant(cancelled, f"{at}.subscription_cancelled_at")
        if cancelled is not None
        else None,
    )


def _chance(value: Any, at: str) -> Chance | None:
    if value is None:
        return None
    found = mapping(value, at, {"probability", "delay"}, {"probability", "delay"})
    return Chance(
        probability(found["probability"], f"{at}.probability"),
        read_delay(found["delay"], f"{at}.delay"),
    )
