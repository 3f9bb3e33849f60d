"""PostgreSQL only: embedding in a host (its pool, its schema, its migration step),
migrations, and the due-work wake-up (LISTEN/NOTIFY)."""

import threading
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from contract_samples import T0, account, enrollment, reading, write
from psycopg_pool import ConnectionPool

from engine.adapters.storage import postgres_database
from engine.adapters.storage.errors import StorageError
from engine.adapters.storage.named_sql import Migration
from engine.adapters.storage.postgres import PostgresStore, migrate


@pytest.fixture
def host_pool(pg_url: str) -> Iterator[ConnectionPool[psycopg.Connection[object]]]:
    """A host's pool as a web framework would set it up: its own session time zone and
    search_path, transactions (not autocommit) by default."""

    def configure(conn: psycopg.Connection[object]) -> None:
        conn.execute("SET TimeZone = 'Asia/Kolkata'")
        conn.execute("SET search_path = public")
        conn.commit()

    with ConnectionPool(pg_url, min_size=1, max_size=3, configure=configure) as pool:
        yield pool


def test_a_host_pool_and_schema(host_pool: ConnectionPool[psycopg.Connection[object]]) -> None:
    with host_pool.connection() as conn:
        conn.execute("CREATE TABLE public.crm_notes (id int)")  # the host's own table
    store = PostgresStore(pool=host_pool, schema="crm_engine")
    write(store, account(), enrollment(30, due_at=T0))
    with reading(store) as uow:
        got = uow.get_enrollment(1, 30)
    assert got == enrollment(30, due_at=T0)
    assert got is not None and got.due_at is not None and got.due_at.utcoffset() == timedelta(0)
    store.close()
    with host_pool.connection() as conn:  # still open, and left as the host set it up
        assert conn.autocommit is False
        assert conn.execute("SHOW search_path").fetchone() == ("public",)
        assert conn.execute("SHOW TimeZone").fetchone() == ("Asia/Kolkata",)
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'crm_engine' "
                              "AND tablename = 'enrollments'").fetchone()
        assert tables == (1,)
        assert conn.execute("SELECT count(*) FROM crm_engine.enrollments").fetchone() == (1,)


def test_two_schemas_in_one_database_are_independent(pg_url: str) -> None:
    with PostgresStore(pg_url, schema="tenant_a") as a, PostgresStore(
            pg_url, schema="tenant_b") as b:
        write(a, account(1, "a"))
        write(b, account(1, "b"))
        with reading(a) as uow:
            assert uow.get_account(1) == account(1, "a")
        with reading(b) as uow:
            assert uow.get_account(1) == account(1, "b")


def test_the_host_migrates_inside_its_own_transaction(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:  # not autocommit: a migration tool's transaction
        conn.execute("CREATE TABLE host_things (id int)")
        assert migrate(conn, schema="embedded") == len(postgres_database.schema())
        assert conn.execute("SHOW search_path").fetchone() == ('"$user", public',)
        conn.rollback()  # the host changes its mind: nothing of ours is kept either
        assert migrate(conn, schema="embedded") == len(postgres_database.schema())
        conn.commit()
    with PostgresStore(pg_url, schema="embedded", migrate_schema=False) as store:
        write(store, account())
        assert store.migrate() == len(postgres_database.schema())


def test_migrating_again_is_harmless_and_newer_databases_are_refused(pg: PostgresStore,
                                                                     pg_url: str) -> None:
    write(pg, account())
    ours = postgres_database.schema()
    assert pg.migrate() == len(ours)
    nxt = len(ours) + 1
    later = (*ours,
             Migration(nxt, "add account notes", "ALTER TABLE accounts ADD COLUMN notes text;\n"
                       "CREATE INDEX accounts_by_name ON accounts (name);"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert postgres_database.migrate(conn, "seqengine", later) == nxt
        assert postgres_database.migrate(conn, "seqengine", later) == nxt
        rows = conn.execute("SELECT version, description FROM seqengine.schema_version "
                            "ORDER BY version").fetchall()
        assert rows == [(m.version, m.description) for m in later]
    with reading(pg) as uow:
        assert uow.get_account(1) == account()
    with pytest.raises(StorageError, match=f"version {nxt}, newer"):
        pg.migrate()


def test_stores_starting_at_once_migrate_once(pg_url: str) -> None:
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stores.append(PostgresStore(pg_url, schema="fresh"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for store in stores:
        store.close()
    assert errors == [] and len(stores) == 4
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM fresh.schema_version").fetchone() == (
            len(postgres_database.schema()),)


@pytest.fixture
def pg(pg_url: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_url) as store:
        yield store


# -- the due-work wake-up -------------------------------------------------------------------


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def expect(self, what: str) -> None:
        assert self.event.wait(10), f"no wake-up: {what}"
        self.event.clear()


def test_the_trigger_notifies_when_work_comes_due_sooner(pg: PostgresStore,
                                                         pg_url: str) -> None:
    marker = T0 + timedelta(days=9)
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute('LISTEN "seqengine_due"')
        write(pg, enrollment(30, due_at=T0))  # new and due
        write(pg, enrollment(30, due_at=T0 + timedelta(hours=1)))  # later: no notification
        write(pg, enrollment(31, due_at=None))  # nothing due: none
        write(pg, enrollment(30, due_at=T0 - timedelta(hours=1)))  # sooner
        write(pg, enrollment(31, due_at=marker))  # set: notified, and the last one
        payloads = []
        for notify in listener.notifies(timeout=10):
            payloads.append(notify.payload)
            if notify.payload.startswith(marker.strftime("%Y-%m-%d")):
                break
    assert [p[:19] for p in payloads] == [
        "2020-12-15 19:58:53", "2020-12-15 18:58:53", "2020-12-24 19:58:53"]


def test_due_work_wakes_the_listener(pg: PostgresStore) -> None:
    from engine.adapters.storage.postgres_listener import DueListener

    wakes = Wakes()
    listener = DueListener(pg.pool.conninfo, pg.pool.kwargs, "seqengine_due", wakes)
    listener.start()
    try:
        assert listener.listening.wait(10)
        write(pg, enrollment(30, due_at=T0))
        wakes.expect("a new due enrollment")
    finally:
        listener.stop()


def test_the_listener_reconnects_when_its_connection_drops(pg: PostgresStore,
                                                           pg_url: str) -> None:
    from engine.adapters.storage.postgres_listener import DueListener

    wakes = Wakes()
    listener = DueListener(pg.pool.conninfo, pg.pool.kwargs, "seqengine_due", wakes,
                           keepalive=0.2, retry=0.05)
    listener.start()
    try:
        assert listener.listening.wait(10)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE query LIKE 'LISTEN%%' AND datname = current_database()")
        wakes.expect("a wake-up after reconnecting (notifications may have been lost)")
        assert listener.listening.wait(10) and listener.connections == 2
        write(pg, enrollment(30, due_at=T0))
        wakes.expect("a notification on the new connection")
    finally:
        listener.stop()
    assert not listener._thread.is_alive()


def test_listen_due_returns_a_stop_function_and_close_stops_it(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    wakes = Wakes()
    stop = store.listen_due(wakes)
    write(store, enrollment(30, due_at=T0))
    wakes.expect("listen_due on the store")
    stop()
    store.close()  # stops any listener left, and does not wait on a stopped one
