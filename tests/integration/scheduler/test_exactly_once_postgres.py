"""Exactly once in effect on PostgreSQL: four workers (each on its own store, as
four processes would be) drain one database; every send is delivered once, and
a dead worker's claims are delivered once more only after its lease."""

import threading
from collections.abc import Callable
from datetime import timedelta

from test_exactly_once import START, STEPS, CountingDelivery, drain

from engine import Page, SimulatedClock, build
from engine.adapters.storage.postgres import PostgresStore
from engine.app.execution import Executor
from engine.app.policy import ExecutionPolicy


def prepare(url: str, enrollments: int) -> int:
    with PostgresStore(url) as store:
        engine = build(store, SimulatedClock(START))
        account = engine.create_account("a").id
        actor = engine.create_user(account, daily_email_limit=10_000).id
        sequence = engine.create_sequence(account, name="s", steps=STEPS, creator_id=actor).id
        for resource in range(1, enrollments + 1):
            engine.enroll(account, sequence_id=sequence, resource_type="lead",
                          resource_id=resource, actor_id=actor)
    return account


def test_four_workers_on_one_database_deliver_every_send_exactly_once(pg_url: str) -> None:
    account = prepare(pg_url, 120)
    stores = [PostgresStore(pg_url, migrate_schema=False) for _ in range(4)]
    try:
        delivery = CountingDelivery(stores[0])
        for now in (START + timedelta(seconds=1), START + timedelta(hours=2)):
            policy = ExecutionPolicy()
            workers = [Executor(store, delivery, policy, SimulatedClock(now), f"w{n}")
                       for n, store in enumerate(stores)]
            run_all([worker.run_due for worker in workers])
        assert len(delivery.calls) == 240
        assert set(delivery.calls.values()) == {1}
        engine = build(stores[0], SimulatedClock(START + timedelta(hours=2)))
        views = engine.list_enrollments(account, page=Page(size=100)) + engine.list_enrollments(
            account, page=Page(number=2, size=100))
        assert len(views) == 120
        assert {v.enrollment.state.value for v in views} == {"finished"}
    finally:
        for store in stores:
            store.close()


def test_a_dead_workers_claim_is_delivered_once_more_after_its_lease(pg_url: str) -> None:
    prepare(pg_url, 10)
    with PostgresStore(pg_url, migrate_schema=False) as store:
        delivery = CountingDelivery(store)
        policy = ExecutionPolicy()
        now = START + timedelta(seconds=1)
        dead = Executor(store, delivery, policy, SimulatedClock(now), "dead")
        claims, _ = dead.claim(100)  # this worker dies here
        assert len(claims) == 10
        drain(store, delivery, now + timedelta(seconds=10), workers=2)
        assert not delivery.calls  # leased: nobody else touches them
        drain(store, delivery, now + policy.lease + timedelta(seconds=1), workers=2)
        assert sorted(delivery.calls) == sorted(c.request.idempotency_key for c in claims)
        assert set(delivery.calls.values()) == {1}


def run_all(targets: list[Callable[[], object]]) -> None:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
