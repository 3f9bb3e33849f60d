"""What the simulator counts while it runs (the rest is read from the store at the end)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class Tally:
    # (actor name, actor's local date) -> count
    emails_sent: Counter[tuple[str, date]] = field(default_factory=Counter)
    tasks_created: Counter[tuple[str, date]] = field(default_factory=Counter)
    tasks_completed: Counter[tuple[str, date]] = field(default_factory=Counter)
    tasks_deleted: Counter[tuple[str, date]] = field(default_factory=Counter)
    # (actor name, UTC date of the snapshot) -> enrollments whose current step is overdue
    overdue: Counter[tuple[str, date]] = field(default_factory=Counter)
    blocks: Counter[str] = field(default_factory=Counter)  # failure reason -> count
    transient_errors: int = 0
    replies: int = 0  # replies that finished an enrollment
    resumes: int = 0
    resources_deleted: int = 0
    not_enrolled: int = 0  # arrivals after the subscription was cancelled
