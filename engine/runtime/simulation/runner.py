"""Runs a scenario on the real engine: the in-memory store, the simulated clock, the
public use cases. Nothing here models the engine; it only plays the outside world.

The loop keeps one heap of outside events (arrivals, replies, task completions, ...)
and advances the engine to the next one: the engine runs its due work up to there in
time order, each piece at its exact instant, and stops early (its `horizon`) when a
reaction to what it did (a reply to an email, scheduled from that instant) made an
earlier event, which is then applied first. Due work and an event at the same instant:
the due work first.
Random draws come from generators seeded by the scenario's seed and happen in a fixed
order, so the same scenario and seed give the same results.
"""

import gc
import heapq
import math
import random
from bisect import bisect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from itertools import accumulate
from operator import itemgetter
from typing import Any

from engine.adapters.chance_delivery import ChanceDelivery
from engine.adapters.clocks import SimulatedClock
from engine.app.policy import ExecutionPolicy
from engine.app.ports import EnrollmentFilter, Page, SendRequest, SendResult
from engine.app.service import SequenceEngine
from engine.app.views import EnrollmentView, overdue_position
from engine.domain.enrollment import Enrollment
from engine.domain.enums import EnrollmentState, FailureReason, ResourceType
from engine.domain.events import EmailReplied, ResourceDeleted, SubscriptionCancelled
from engine.domain.task import Task
from engine.runtime.simulation.observed_store import ObservedStore
from engine.runtime.simulation.scenario import Scenario
from engine.runtime.simulation.tally import Tally
from engine.timeline import BusinessCalendar, calendar_for

DAY = timedelta(days=1)


@contextmanager
def _rarer_collections() -> Iterator[None]:
    """Garbage collections made rarer for the run, then as they were.

    A run keeps hundreds of thousands of live objects (enrollments, their actions) that
    the cyclic collector scans again and again and never finds garbage in: at 100,000
    enrollments that was 12% of the run, and under 4% with a young generation of 50,000.
    The middle generation is then scanned only every 1,000 young collections (from 20):
    at 20 it took 9 scans of up to a million survivors and one full collection of
    every live object (together 15% of a 100,000 run); at 1,000 none happen in such a
    run. Cycles still die young (a caught DeliveryError's is garbage at once)."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), max(before[1], 1000), *before[2:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _picker(rng: random.Random, cum_weights: list[float]) -> Callable[[], int]:
    """`rng.choices(range(n), cum_weights=cum_weights)[0]` as a function of no argument:
    the same draw and the same index, with the weights' checks done once (an arrival
    draws three times, and `choices` costs ~1 us a call); weights it refuses are
    refused as it refuses them, on the first draw."""
    total = cum_weights[-1] + 0.0 if cum_weights else 0.0
    if not cum_weights or not 0.0 < total < math.inf:
        population = range(len(cum_weights))
        return lambda: rng.choices(population, cum_weights=cum_weights)[0]
    draw, hi = rng.random, len(cum_weights) - 1
    return lambda: bisect(cum_weights, draw() * total, 0, hi)


class Kind(IntEnum):
    ARRIVE = 0
    REPLY = 1
    TASK_DONE = 2
    TASK_DELETE = 3
    RESUME = 4
    RESOURCE_DELETED = 5
    CANCEL = 6
    TICK = 7  # once a simulated day: progress, and the overdue snapshot


_ARRIVE = Kind.ARRIVE  # a global's read, not a class attribute's (every event, P4)

# An arrival's payload: resource type, resource id, index into scenario.sequences and
# into scenario.actors. A plain tuple: one is made per arrival, and a class's __init__
# costs a Python call each.
Arrival = tuple[ResourceType, int, int, int]


@dataclass(slots=True)
class Outcome:
    scenario: Scenario
    enrollments: int
    seed: int
    tally: Tally
    views: list[EnrollmentView]
    sequence_names: dict[int, str]  # engine sequence id -> scenario name
    actor_names: dict[int, str]  # engine user id -> scenario name
    end: datetime


Progress = Callable[[int], None]  # called with simulated days done


class Simulation:
    def __init__(
        self, scenario: Scenario, *, enrollments: int | None = None, seed: int | None = None
    ) -> None:
        self.scenario = scenario
        self.count = scenario.arrivals.count if enrollments is None else enrollments
        self.seed = scenario.seed if seed is None else seed
        self.tally = Tally()
        # (start, end, actor, tally key) of the last email sent (`_delivered`): the span of
        # instants of the actor's local day (`BusinessCalendar.local_day`), so most sends
        # reuse the key instead of reading the actor's local date again (~2% of P4's
        # instructions)
        self._sent_key: tuple[datetime, datetime, int, tuple[str, Any]] = (
            scenario.start, scenario.start, 0, ("", None)
        )
        self.heap: list[tuple[datetime, int, Kind, Any]] = []
        self.pushed = 0
        # the events drawn before the run (arrivals, resource deletions), the next last;
        # the heap holds the next of them only (see _plan_arrivals)
        self.planned: list[tuple[datetime, int, Kind, Any]] = []
        self.cancelled = False
        self.rng = random.Random(f"{self.seed}:behaviour")
        behaviour = scenario.behaviour
        self.store = ObservedStore(self._task_created, self._blocked)
        self.clock = SimulatedClock(scenario.start)
        delivery = ChanceDelivery(
            random.Random(f"{self.seed}:delivery"),
            behaviour.failures,
            behaviour.transient_error_rate,
            observe=self._delivered,
        )
        self.engine = SequenceEngine(
            self.store, self.clock, delivery, ExecutionPolicy(limit_policy=scenario.limit_policy)
        )
        self.account = self.engine.create_account(scenario.name).id
        self.actor_ids: list[int] = []
        self.actor_names: dict[int, str] = {}
        self.calendars: dict[int, BusinessCalendar] = {}
        for spec in scenario.actors:
            user = self.engine.create_user(
                self.account,
                name=spec.name,
                time_zone=spec.time_zone,
                holidays=spec.holidays,
                weekmask=spec.weekmask,
                send_window=spec.send_window,
                daily_email_limit=spec.daily_email_limit,
            )
            self.actor_ids.append(user.id)
            self.actor_names[user.id] = spec.name
            self.calendars[user.id] = calendar_for(
                spec.time_zone, spec.holidays, spec.weekmask, spec.send_window
            )
        self.sequence_ids: list[int] = []
        self.replies: dict[int, tuple[float, ...]] = {}
        for sequence_spec in scenario.sequences:
            sequence = self.engine.create_sequence(
                self.account,
                name=sequence_spec.name,
                steps=sequence_spec.steps,
                creator_id=self.actor_ids[0],
            )
            self.sequence_ids.append(sequence.id)
            self.replies[sequence.id] = sequence_spec.reply_probability
        self.sequence_of: dict[int, int] = {}  # enrollment id -> engine sequence id
        self.any_replies = any(any(chances) for chances in self.replies.values())
        # Whether the engine's work can make an event here (a reply to an email sent, a
        # task's completion or deletion, a blocked enrollment's resume): only then can an
        # event come before the one an advance runs up to, and the engine must ask for it
        # (`horizon`) before each piece of work, ~0.1 us a step (P4)
        self.reacts = (
            self.any_replies
            or behaviour.resume_blocked is not None
            or any(not step.is_email for spec in scenario.sequences for step in spec.steps)
        )

    # -- the loop ------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> Outcome:
        with _rarer_collections():
            return self._run(progress)

    def _run(self, progress: Progress | None) -> Outcome:
        self._plan_arrivals()
        planned_last = self.pushed  # the numbers of planned events are 1 to this
        scenario, engine, heap, planned = self.scenario, self.engine, self.heap, self.planned
        clock = self.clock
        if scenario.behaviour.subscription_cancelled_at is not None:
            self._push(scenario.behaviour.subscription_cancelled_at, Kind.CANCEL, None)
        self._push(scenario.start + DAY, Kind.TICK, 1)
        end = scenario.end

        def next_event() -> datetime | None:
            return heap[0][0] if heap else None

        horizon = next_event if self.reacts else None
        while True:
            # the engine's due work up to the next outside event (due work at the same
            # instant first); it stops sooner when its work makes an earlier event
            event_at = heap[0][0] if heap else None  # next_event(), inlined (P4)
            stop = end if event_at is None or event_at > end else event_at
            now = clock.now()  # max(stop, now) without the builtin's argument parsing
            if engine.advance(to=now if now > stop else stop, horizon=horizon) < stop:
                continue
            if stop is end:
                break
            _, number, kind, payload = heapq.heappop(heap)
            if number <= planned_last and planned:  # the next planned takes its place
                heapq.heappush(heap, planned.pop())  # _feed_planned, inlined (P4)
            self._apply(kind, payload, progress)
        engine.advance(to=end)
        return self._outcome()

    def _push(self, at: datetime, kind: Kind, payload: Any) -> None:
        self.pushed += 1
        heapq.heappush(self.heap, (at, self.pushed, kind, payload))

    def _feed_planned(self) -> None:
        if self.planned:  # taken off the list: a run holds only those still to come
            heapq.heappush(self.heap, self.planned.pop())

    def _plan_arrivals(self) -> None:
        """Draws every arrival (and resource deletion) before the run, numbered as
        pushed, and sorts them as the heap orders them (by instant, then number: the
        sort is stable and they are drawn in number order). The heap then holds one of
        them at a time: 100,000 arrivals on the heap cost a pop of ~3 us each, the sort
        a fraction of that (P4)."""
        arrivals, rng = self.scenario.arrivals, random.Random(f"{self.seed}:arrivals")
        types = [ResourceType(t) for t in arrivals.resource_types]
        # cumulative weights, summed once: what rng.choices sums on every call otherwise
        type_weights = list(accumulate(arrivals.resource_types.values()))
        names = [s.name for s in self.scenario.sequences]
        sequence_weights = list(accumulate(arrivals.sequences.get(n, 0.0) for n in names))
        actor_names = [a.name for a in self.scenario.actors]
        actor_weights = list(accumulate(arrivals.actors.get(n, 0.0) for n in actor_names))
        period = arrivals.period.total_seconds()
        deletion = self.scenario.behaviour.resource_deletion
        pick_type = _picker(rng, type_weights)
        pick_sequence = _picker(rng, sequence_weights)
        pick_actor = _picker(rng, actor_weights)
        draw, start, planned = rng.random, arrivals.start, self.planned
        number, arrive, deleted = self.pushed, Kind.ARRIVE, Kind.RESOURCE_DELETED
        for i in range(1, self.count + 1):
            # rng.uniform(0, period) is 0 + (period - 0) * rng.random(): the same float,
            # and timedelta(0, s) is timedelta(seconds=s)
            at = start + timedelta(0, period * draw())
            kind = types[pick_type()]
            number += 1
            planned.append((at, number, arrive, (kind, i, pick_sequence(), pick_actor())))
            if deletion is not None and rng.random() < deletion.probability:
                number += 1
                planned.append((at + deletion.delay.draw(rng), number, deleted, (kind, i)))
        self.pushed = number
        planned.sort(key=itemgetter(0))
        planned.reverse()  # popped from the end: in heap order, ties by number as sorted
        self._feed_planned()

    def _apply(self, kind: Kind, payload: Any, progress: Progress | None) -> None:
        if kind is _ARRIVE and not self.cancelled:  # most events: tested first (P4)
            resource_type, resource_id, sequence, actor = payload
            # by position: start_enrollment's keywords cost a name match each (P4)
            enrollment = self.engine._start_enrollment(
                self.account, self.sequence_ids[sequence], resource_type, resource_id,
                self.actor_ids[actor],
            )
            if self.any_replies:  # _delivered reads it only then
                self.sequence_of[enrollment.id] = enrollment.sequence_id
            return
        engine, account, tally = self.engine, self.account, self.tally
        if kind is Kind.TICK:
            if self.scenario.overdue_snapshots and not self.cancelled:
                self._snapshot_overdue()
            if progress is not None:
                progress(payload)
            self._push(self.clock.now() + DAY, Kind.TICK, payload + 1)
            return
        if self.cancelled:
            tally.not_enrolled += kind is Kind.ARRIVE
            return  # without Reach nothing can be enrolled, completed or resumed
        if kind is Kind.REPLY:
            tally.replies += len(engine.handle(account, EmailReplied(payload)))
        elif kind is Kind.TASK_DONE:
            task = engine.update_task(account, payload, completed=True)
            tally.tasks_completed[self._day_of(task.owner_id)] += 1
        elif kind is Kind.TASK_DELETE:
            task = engine.get_task(account, payload)
            engine.delete_task(account, payload)
            tally.tasks_deleted[self._day_of(task.owner_id)] += 1
        elif kind is Kind.RESUME:
            enrollment = engine.get_enrollment(account, payload).enrollment
            if enrollment.state is EnrollmentState.BLOCKED:
                engine.update_enrollment_state(
                    account, payload, EnrollmentState.ACTIVE, actor_id=enrollment.actor_id
                )
                tally.resumes += 1
        elif kind is Kind.RESOURCE_DELETED:
            tally.resources_deleted += len(engine.handle(account, ResourceDeleted(*payload)))
        elif kind is Kind.CANCEL:
            engine.handle(account, SubscriptionCancelled())
            self.cancelled = True

    # -- what the engine did, as it happens ------------------------------------

    def _delivered(self, request: SendRequest, now: datetime, result: SendResult | None) -> None:
        if result is None:
            self.tally.transient_errors += 1
        elif result.sent:
            actor, last = request.actor_id, self._sent_key
            if actor != last[2] or not last[0] <= now < last[1]:  # _day_of, inlined, kept
                start, end, day = self.calendars[actor].local_day(now)
                key = self.actor_names[actor], day
                last = self._sent_key = (start, end, actor, key)
                self.tally.emails_sent.setdefault(key, 0)  # see Tally
            self.tally.emails_sent[last[3]] += 1
            if not self.any_replies:  # every chance is 0: nothing to read or draw
                return
            chance = self.replies[self.sequence_of[request.enrollment_id]][request.position]
            if chance and self.rng.random() < chance:
                delay = self.scenario.behaviour.reply_delay.draw(self.rng)
                self._push(now + delay, Kind.REPLY, request.enrollment_id)

    def _blocked(self, enrollment: Enrollment) -> None:
        reason = enrollment.current_action.failure_reason or FailureReason.UNKNOWN
        self.tally.blocks[reason.value] += 1
        resume = self.scenario.behaviour.resume_blocked
        if resume is not None and self.rng.random() < resume.probability:
            self._push(self.clock.now() + resume.delay.draw(self.rng), Kind.RESUME, enrollment.id)

    def _task_created(self, task: Task) -> None:
        now, behaviour = self.clock.now(), self.scenario.behaviour
        self.tally.tasks_created[self._day_of(task.owner_id, now)] += 1
        deleted = behaviour.task_deletion_rate and self.rng.random() < behaviour.task_deletion_rate
        at = now + behaviour.task_completion.draw(self.rng)
        self._push(at, Kind.TASK_DELETE if deleted else Kind.TASK_DONE, task.id)

    def _day_of(self, user_id: int, now: datetime | None = None) -> tuple[str, Any]:
        instant = self.clock.now() if now is None else now
        return self.actor_names[user_id], self.calendars[user_id].local_date(instant)

    def _snapshot_overdue(self) -> None:
        today = self.clock.now().date()
        for state in (EnrollmentState.ACTIVE, EnrollmentState.BLOCKED):
            views = self.engine.list_enrollments(
                self.account, EnrollmentFilter(state=state), Page(size=max(self.count, 1))
            )
            for view in views:
                if view.overdue_position is not None:
                    self.tally.overdue[(self.actor_names[view.enrollment.actor_id], today)] += 1

    def _outcome(self) -> Outcome:
        # read from the store, not through the use cases: after a cancelled subscription
        # the account can no longer list its enrollments, but the results still count
        now, grace = self.clock.now(), self.engine.policy.email_grace
        with self.store.unit_of_work(read_only=True) as uow:
            found = uow.list_enrollments(
                self.account, EnrollmentFilter(), Page(size=max(self.count, 1))
            )
            users = {uid: uow.get_user(uid) for uid in self.actor_ids}
            sequences = {sid: uow.get_sequence(self.account, sid) for sid in self.sequence_ids}
        views = []
        for enrollment in found:
            actor, sequence = users[enrollment.actor_id], sequences[enrollment.sequence_id]
            assert actor is not None and sequence is not None
            # the simulator never reassigns a task: its owner is the actor
            late = overdue_position(enrollment, actor.calendar, now, grace)
            views.append(EnrollmentView(enrollment, sequence, late))
        names = {
            sid: spec.name
            for sid, spec in zip(self.sequence_ids, self.scenario.sequences, strict=True)
        }
        return Outcome(
            self.scenario, self.count, self.seed, self.tally, views, names, self.actor_names, now
        )
