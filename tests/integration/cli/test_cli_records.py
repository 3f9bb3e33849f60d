"""Accounts, users, tokens, sequences and enrollments from the command line: a human
summary by default, JSON with --json."""

import json
import sqlite3
from pathlib import Path

from processes import seqengine

from engine import SystemClock, build
from engine.adapters.http import hash_token
from engine.adapters.storage.sqlite import SqliteStore

SEQUENCE = {"data": {"name": "Warm approach", "steps": [
    {"delay_from_previous_step": 0, "delay_from_previous_step_unit": "weekdays",
     "action_type": "automated_email",
     "action_properties": {"email_template_id": 9606, "is_reply": False}},
    {"delay_from_previous_step": 2, "delay_from_previous_step_unit": "hours",
     "action_type": "task", "action_properties": {"task_content": "Call"}},
]}}


def cli(db: Path, *args: str) -> str:
    done = seqengine("--db", f"sqlite:///{db}", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_accounts_users_and_tokens_speak_human_unless_asked_for_json(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert cli(db, "accounts", "create", "--name", "Acme") == "Account 1 (Acme), with Reach.\n"
    assert json.loads(cli(db, "accounts", "create", "--name", "Lone", "--no-reach", "--json")) \
        == {"id": 2, "name": "Lone", "reach_enabled": False}
    said = cli(db, "users", "create", "--account", "1", "--time-zone", "Europe/Berlin",
               "--holidays", "DE-BY", "--send-window", "09:00-17:00")
    assert said == ("User 1 in account 1: Europe/Berlin, holidays DE-BY, sends 09:00-17:00, "
                    "at most 300 emails a day.\n")
    lines = cli(db, "tokens", "create", "--user", "1", "--scopes", "read,admin").splitlines()
    assert lines[0] == ("A token for user 1 in account 1, scopes admin, read "
                        "(shown once; only its hash is kept):")
    assert len(lines[1]) == 64 and int(lines[1], 16) >= 0
    assert cli(db, "tokens", "revoke", lines[1]) == "Token revoked.\n"
    token = json.loads(cli(db, "tokens", "create", "--user", "1", "--json"))
    assert token["scopes"] == ["read", "write"] and token["account_id"] == 1


def test_sequences_are_created_from_a_file_and_listed(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    cli(db, "accounts", "create", "--name", "Acme")
    cli(db, "users", "create", "--account", "1")
    path = tmp_path / "warm.json"
    path.write_text(json.dumps(SEQUENCE))
    assert cli(db, "sequences", "create", "--user", "1", str(path)) == (
        "Sequence 1 (Warm approach) in account 1, 2 steps.\n")
    created = json.loads(cli(db, "sequences", "create", "--user", "1", str(path), "--json"))
    assert created["meta"] == {"type": "sequence"} and created["data"]["id"] == 2
    steps = created["data"]["steps"]["items"]
    assert [s["data"]["action_type"] for s in steps] == ["automated_email", "task"]
    table = cli(db, "sequences", "list", "--account", "1").splitlines()
    assert table[0].split() == ["id", "name", "steps", "creator", "created"]
    assert table[2].split()[:5] == ["1", "Warm", "approach", "2", "1"]
    assert len(table) == 4
    listed = json.loads(cli(db, "sequences", "list", "--account", "1", "--json"))
    assert [s["id"] for s in listed] == [1, 2]


def test_a_sequence_file_without_a_name_is_refused_clearly(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    cli(db, "accounts", "create", "--name", "Acme")
    cli(db, "users", "create", "--account", "1")
    path = tmp_path / "nameless.json"
    path.write_text(json.dumps({"steps": SEQUENCE["data"]["steps"]}))
    done = seqengine("--db", f"sqlite:///{db}", "sequences", "create", "--user", "1", str(path))
    assert done.returncode == 2 and "name" in done.stderr and "Traceback" not in done.stderr
    assert cli(db, "sequences", "list", "--account", "1") == "Account 1 has no sequences.\n"


def test_enrollments_are_listed_as_a_table_by_state(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    cli(db, "demo")
    with SqliteStore(str(db)) as store:
        engine = build(store, SystemClock())
        for resource in (7, 8):
            engine.enroll(1, sequence_id=2, resource_type="lead", resource_id=resource,
                          actor_id=1)
        engine.update_enrollment_state(1, 2, "finished", actor_id=1)
    rows = cli(db, "enrollments", "list", "--account", "1").splitlines()
    assert rows[0].split()[:5] == ["id", "sequence", "resource", "state", "step"]
    assert [r.split()[:5] for r in rows[2:]] == [["1", "2", "lead", "7", "active"],
                                                 ["2", "2", "lead", "8", "finished"]]
    active = cli(db, "enrollments", "list", "--account", "1", "--state", "active").splitlines()
    assert [r.split()[0] for r in active[2:]] == ["1"]
    assert active[2].split()[5] == "1/2"
    listed = json.loads(cli(db, "enrollments", "list", "--account", "1", "--state", "finished",
                            "--json"))
    assert [e["id"] for e in listed] == [2] and listed[0]["state"] == "finished"
    assert cli(db, "enrollments", "list", "--account", "1", "--state", "blocked") == (
        "Account 1 has no blocked enrollments.\n")


def test_demo_reuses_its_objects_and_replaces_them_if_they_are_gone(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    first = json.loads(cli(db, "demo", "--json"))
    again = json.loads(cli(db, "demo", "--json", "--port", "8123"))
    assert (first["reused"], again["reused"]) == (False, True)
    assert [again[k] for k in ("account_id", "user_id", "sequence_ids")] == [1, 1, [1, 2]]
    assert again["token"] != first["token"] and again["base_url"] == "http://127.0.0.1:8123"
    assert again["database"] == str(db)
    with SqliteStore(str(db)) as store, store.unit_of_work() as uow:
        token = uow.get_token(hash_token(again["token"]))
        assert token is not None and token.scopes == frozenset({"read", "write", "admin"})
    with sqlite3.connect(db) as conn:  # a demo sequence disappears behind the engine's back
        conn.execute("DELETE FROM sequences WHERE id = 2")
    remade = json.loads(cli(db, "demo", "--json"))
    assert remade["reused"] is False and remade["account_id"] == 2
    assert json.loads(cli(db, "demo", "--json"))["account_id"] == 2
