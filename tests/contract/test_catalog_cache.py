"""The catalog cache (engine/adapters/storage/catalog_cache.py) never serves a stale
account, user, token or sequence: a change committed by another store instance,
another process or plain SQL is seen by the next transaction of a store that had
cached the old one. SQLite and PostgreSQL (read-only units there)."""

import subprocess
import sys
from dataclasses import replace

from contract_samples import STEPS, Opener, account, by_hand, sequence, token, user, write

from engine.app.ports import Store
from engine.domain.sequence import UnsubscribeSettings


def snapshot(store: Store) -> tuple[object, ...]:
    with store.unit_of_work(read_only=True) as uow:
        return (uow.get_account(1), uow.get_user(10), uow.get_token("ab" * 32),
                uow.get_sequence(1, 20))


def test_a_change_through_another_store_is_seen_at_once(opener: tuple[str, Opener]) -> None:
    _, open_store = opener
    first, second = open_store(), open_store()
    try:
        write(first, account(), user(), token(), sequence())
        assert snapshot(first) == (account(), user(), token(), sequence())
        assert snapshot(first) == (account(), user(), token(), sequence())  # now cached
        renamed = account(name="renamed")
        moved = replace(user(), time_zone="America/New_York")
        edited = replace(sequence(), name="edited", steps=STEPS[:1],
                         unsubscribe_settings=UnsubscribeSettings(True, "en-US"))
        write(second, renamed, moved, token(revoked=True), edited)
        assert snapshot(first) == (renamed, moved, token(revoked=True), edited)
    finally:
        first.close()
        second.close()


def test_objects_that_did_not_exist_are_seen_once_created(opener: tuple[str, Opener]) -> None:
    _, open_store = opener
    first, second = open_store(), open_store()
    try:
        assert snapshot(first) == (None, None, None, None)
        assert snapshot(first) == (None, None, None, None)
        write(second, account(), user(), token(), sequence())
        assert snapshot(first) == (account(), user(), token(), sequence())
    finally:
        first.close()
        second.close()


CHANGE_IN_ANOTHER_PROCESS = """
import sys
from engine.adapters.storage.postgres import PostgresStore
from engine.adapters.storage.sqlite import SqliteStore
address = sys.argv[1]
store = PostgresStore(address) if address.startswith("postgresql") else SqliteStore(address)
with store.unit_of_work() as uow:
    found = uow.get_account(1)
    found.name = "from another process"
    uow.save_account(found)
    revoked = uow.get_token("ab" * 32)
    revoked.revoked = True
    uow.save_token(revoked)
    uow.commit()
store.close()
"""


def test_a_change_from_another_process_is_seen(opener: tuple[str, Opener]) -> None:
    address, open_store = opener
    store = open_store()
    try:
        write(store, account(), user(), token(), sequence())
        snapshot(store)
        subprocess.run([sys.executable, "-c", CHANGE_IN_ANOTHER_PROCESS, address], check=True,
                       timeout=60)
        found = snapshot(store)
        assert found[0] == account(name="from another process")
        assert found[2] == token(revoked=True)
    finally:
        store.close()


def test_plain_sql_changes_bump_the_version(opener: tuple[str, Opener]) -> None:
    """The triggers, not the store's code, keep the version: a host's own SQL counts."""
    address, open_store = opener
    store = open_store()
    try:
        write(store, account(), user(), token(), sequence())
        snapshot(store)
        statements = ["UPDATE {s}accounts SET name = 'by hand'",
                      "UPDATE {s}users SET time_zone = 'Asia/Tokyo'",
                      "DELETE FROM {s}api_tokens", "UPDATE {s}sequences SET name = 'by hand'"]
        by_hand(address, statements)
        got_account, got_user, got_token, got_sequence = snapshot(store)
        assert got_account == account(name="by hand")
        assert got_user == replace(user(), time_zone="Asia/Tokyo")
        assert got_token is None
        assert got_sequence == replace(sequence(), name="by hand")
    finally:
        store.close()


def test_what_a_caller_changes_is_not_the_cached_copy(opener: tuple[str, Opener]) -> None:
    _, open_store = opener
    store = open_store()
    try:
        write(store, account(), user(), token(), sequence())
        found = snapshot(store)
        for obj in found:
            obj.__setattr__("account_id" if hasattr(obj, "account_id") else "name", 999)
        assert snapshot(store) == (account(), user(), token(), sequence())
    finally:
        store.close()


def test_a_unit_sees_its_own_catalog_writes(opener: tuple[str, Opener]) -> None:
    _, open_store = opener
    store = open_store()
    try:
        write(store, account(), user(), token(), sequence())
        snapshot(store)
        with store.unit_of_work() as uow:
            assert uow.get_account(1) == account()
            uow.save_account(account(name="mine"))
            assert uow.get_account(1) == account(name="mine")
            # rolled back: nobody, this store's cache included, keeps it
        assert snapshot(store)[0] == account()
        with store.unit_of_work() as uow:
            uow.save_user(replace(user(), name="kept"))
            uow.commit()
            assert uow.get_user(10) == replace(user(), name="kept")  # a new transaction
        assert snapshot(store)[1] == replace(user(), name="kept")
    finally:
        store.close()
