"""/metrics in the Prometheus text format, scraped over real HTTP: from a library
engine's own metrics port, from `seqengine serve`, and from `seqengine worker
--metrics-port`. Every test checks that the figures move."""

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine import (
    ActionType,
    DelayUnit,
    ExecutionPolicy,
    SimulatedClock,
    Step,
    SystemClock,
    build,
)
from engine.adapters.http import issue_token
from engine.adapters.metrics import Metrics
from engine.adapters.storage.sqlite import SqliteStore
from engine.app.ports import SendRequest, SendResult, Store
from engine.errors import DeliveryError
from tests.integration.cli.processes import environment
from tests.integration.served import SEQENGINE, free_port, serve_sqlite, wait_until

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
NOW = [Step(0, 0, DelayUnit.HOURS, ActionType.AUTOMATED_EMAIL, 1, False)]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class Flaky:
    """A delivery that fails transiently while `down`, and sends otherwise."""

    def __init__(self) -> None:
        self.down = False

    def send(self, request: SendRequest, now: datetime) -> SendResult:
        if self.down:
            raise DeliveryError("receiver down")
        return SendResult(True)


@pytest.fixture
def library(tmp_path: Path) -> Iterator[tuple[Store, SimulatedClock, Metrics, str]]:
    store, clock = SqliteStore(str(tmp_path / "m.db")), SimulatedClock(START)
    metrics = Metrics(store, clock)
    port = free_port()
    stop = metrics.serve(port)
    yield store, clock, metrics, f"http://127.0.0.1:{port}/metrics"
    stop()
    store.close()


Library = tuple[Store, SimulatedClock, Metrics, str]


def test_a_library_engines_metrics_move_with_its_work(library: Library) -> None:
    store, clock, metrics, url = library
    flaky = Flaky()
    engine = build(store, clock, flaky, observer=metrics.observer)
    account = engine.create_account("a").id
    actor = engine.create_user(account).id
    sequence = engine.create_sequence(account, name="s", creator_id=actor, steps=NOW).id
    for resource in (1, 2, 3):
        engine.enroll(account, sequence_id=sequence, resource_type="lead",
                      resource_id=resource, actor_id=actor)
    clock.set(START + timedelta(seconds=90))
    before = scrape(url)
    assert value(before, "seqengine_due_backlog") == 3
    assert value(before, "seqengine_oldest_due_age_seconds") == 90
    assert value(before, "seqengine_deliveries_total", kind="email", outcome="sent") == 0

    flaky.down = True
    executor = engine.executor("w")
    claims, _ = executor.claim(1)  # resource 1: will be retried
    executor.record(claims[0], executor.deliver(claims[0]))
    flaky.down = False
    dead, _ = executor.claim(1)  # resource 2: its worker "dies" before recording
    assert executor.deliver(dead[0]) == SendResult(True)
    clock.set(clock.now() + ExecutionPolicy().lease + timedelta(hours=1))
    engine.run_due()
    after = scrape(url)
    assert value(after, "seqengine_due_backlog") == 0
    assert value(after, "seqengine_oldest_due_age_seconds") == 0
    assert value(after, "seqengine_claims_total", kind="email") == 5
    assert value(after, "seqengine_claim_latency_seconds_count", kind="email") == 3
    assert value(after, "seqengine_claim_latency_seconds_bucket", kind="email", le="60.0") == 0
    assert value(after, "seqengine_claim_latency_seconds_sum", kind="email") >= 270
    assert value(after, "seqengine_retries_total", kind="email") == 1
    assert value(after, "seqengine_redeliveries_total", kind="email") == 1
    assert value(after, "seqengine_deliveries_total", kind="email", outcome="error") == 1
    assert value(after, "seqengine_deliveries_total", kind="email", outcome="sent") == 4


def test_lease_renewals_and_losses_are_counted(library: Library) -> None:
    store, clock, metrics, url = library
    engine = build(store, clock, observer=metrics.observer)
    account = engine.create_account("a").id
    actor = engine.create_user(account).id
    sequence = engine.create_sequence(account, name="s", creator_id=actor, steps=NOW).id
    for resource in (1, 2):
        engine.enroll(account, sequence_id=sequence, resource_type="lead",
                      resource_id=resource, actor_id=actor)
    first = engine.executor("first")
    claims, _ = first.claim(2)
    assert len(first.renew([c.lease for c in claims])) == 2
    clock.set(clock.now() + ExecutionPolicy().lease * 2)
    engine.executor("second").claim(1)  # takes one over
    assert len(first.renew([c.lease for c in claims])) == 1  # the other is merely late
    assert first.record(claims[0], first.deliver(claims[0])) is False
    samples = scrape(url)
    assert value(samples, "seqengine_lease_renewals_total") == 3
    assert value(samples, "seqengine_leases_lost_total") == 1
    assert value(samples, "seqengine_outcomes_dropped_total", kind="email") == 1
    assert value(samples, "seqengine_deliveries_total", kind="email", outcome="skipped") == 1


def prepare(db: Path, enrollments: int = 0) -> tuple[str, int, int]:
    """An account, a user with no send window, a due-now email sequence, a token."""
    with SqliteStore(str(db)) as store:
        engine = build(store, SystemClock())
        account = engine.create_account("a").id
        actor = engine.create_user(account).id
        sequence = engine.create_sequence(account, name="now", creator_id=actor, steps=NOW).id
        for resource in range(1, enrollments + 1):
            engine.enroll(account, sequence_id=sequence, resource_type="lead",
                          resource_id=resource, actor_id=actor)
        return issue_token(store, actor), account, sequence


def test_serve_exposes_metrics_that_move(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    token, _, sequence = prepare(db)
    auth = {"Authorization": f"Bearer {token}"}
    with serve_sqlite(db, "--rate-limit", "0") as base:
        url = f"{base}/metrics"
        assert value(scrape(url), "seqengine_deliveries_total", kind="email",
                     outcome="sent") == 0
        api = httpx.Client(base_url=base, headers=auth, timeout=10)
        assert api.post("/engine/v1/outbox/failures", json={"data": {
            "resource_type": "lead", "resource_id": 2, "failure_reason": "auth"}}).is_success
        for resource in (1, 2):
            created = api.post("/v2/sequence_enrollments", json={"data": {
                "sequence_id": sequence, "resource_type": "lead", "resource_id": resource}})
            assert created.status_code == 200
        assert api.get("/v2/sequence_enrollments/999").status_code == 404
        assert httpx.get(f"{base}/v2/sequences").status_code == 401

        def both_done() -> bool:
            s = scrape(url)
            return value(s, "seqengine_deliveries_total", kind="email", outcome="sent") + value(
                s, "seqengine_deliveries_total", kind="email", outcome="failed") == 2

        wait_until(both_done)
        api.close()
        samples = scrape(url)
    assert value(samples, "seqengine_delivery_failures_total", kind="email", reason="auth") == 1
    assert value(samples, "seqengine_claim_latency_seconds_count", kind="email") == 2
    assert value(samples, "seqengine_due_backlog") == 0
    durations = "seqengine_http_request_duration_seconds_count"
    assert value(samples, durations, method="POST", route="/v2/sequence_enrollments",
                 status="200") == 2
    assert value(samples, durations, method="GET", route="/v2/sequence_enrollments/{id}",
                 status="404") == 1
    assert value(samples, durations, method="GET", route="/v2/sequences", status="401") == 1


def test_serve_without_metrics_has_no_route(tmp_path: Path) -> None:
    db = tmp_path / "off.db"
    prepare(db)
    with serve_sqlite(db, "--no-metrics") as base:
        assert httpx.get(f"{base}/metrics").status_code in (401, 404)


def test_a_worker_serves_its_metrics_on_its_own_port(tmp_path: Path) -> None:
    db = tmp_path / "work.db"
    _, _, _ = prepare(db, enrollments=5)
    port = free_port()
    worker = subprocess.Popen(
        [SEQENGINE, "--db", f"sqlite:///{db}", "worker", "--poll-seconds", "0.1",
         "--metrics-port", str(port)], stderr=subprocess.PIPE, text=True, env=environment())
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        def up() -> bool:
            try:
                return httpx.get(url, timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up)
        wait_until(lambda: value(scrape(url), "seqengine_deliveries_total", kind="email",
                                 outcome="sent") == 5)
        samples = scrape(url)
        assert value(samples, "seqengine_due_backlog") == 0
        assert value(samples, "seqengine_claims_total", kind="email") == 5
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err


def test_a_bad_metrics_port_is_one_sentence(tmp_path: Path) -> None:
    done = subprocess.run([SEQENGINE, "--db", f"sqlite:///{tmp_path / 'x.db'}", "worker",
                           "--metrics-port", "70000"], capture_output=True, text=True,
                          timeout=60, env=environment())
    assert done.returncode == 2 and "--metrics-port" in done.stderr
    assert "Traceback" not in done.stderr


def test_importing_engine_does_not_import_prometheus() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys, engine, engine.runtime.server; "
                           "print('prometheus_client' in sys.modules)"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_in_multiprocess_mode_any_process_reports_the_sum_of_all(tmp_path: Path) -> None:
    """PROMETHEUS_MULTIPROC_DIR shared by a worker and a serve: the worker's sends show
    in serve's /metrics, though serve runs no scheduler itself."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    db = tmp_path / "multi.db"
    prepare(db, enrollments=3)
    worker = subprocess.Popen(
        [SEQENGINE, "--db", f"sqlite:///{db}", "worker", "--poll-seconds", "0.1"],
        stderr=subprocess.PIPE, text=True, env=environment(env))
    try:
        with serve_sqlite(db, "--no-scheduler", env=env) as base:
            wait_until(lambda: value(scrape(f"{base}/metrics"), "seqengine_deliveries_total",
                                     kind="email", outcome="sent") == 3)
            assert value(scrape(f"{base}/metrics"), "seqengine_due_backlog") == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
