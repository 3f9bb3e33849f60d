-- The SQLite schema, as numbered migrations. migrate() applies, in one
-- transaction, every migration above the version recorded in schema_version.
-- Never edit a released migration: add the next number.
--
-- Conventions: instants are INTEGER microseconds since 1970-01-01T00:00:00Z
-- (UTC, exact, sortable); days are ISO 'YYYY-MM-DD' text; enums are their
-- wire values; booleans are 0/1.

-- migration: 1 initial schema
CREATE TABLE id_allocator (
    kind    TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE accounts (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    reach_enabled     INTEGER NOT NULL,
    daily_email_quota INTEGER NOT NULL
);

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL,
    name              TEXT    NOT NULL,
    time_zone         TEXT    NOT NULL,
    holidays          TEXT,
    weekmask          TEXT    NOT NULL,
    send_window       TEXT,
    daily_email_limit INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    scopes     TEXT    NOT NULL,  -- JSON array, sorted
    revoked    INTEGER NOT NULL
) WITHOUT ROWID;

-- Step lists are immutable values shared by sequences and enrollments: stored
-- once each, content-addressed by their JSON body.
CREATE TABLE step_lists (
    id   INTEGER PRIMARY KEY,
    body TEXT    NOT NULL UNIQUE  -- JSON: [[position, delay, unit, action_type,
                                  --         email_template_id, is_reply, task_content], ...]
);

CREATE TABLE sequences (
    id                  INTEGER PRIMARY KEY,
    account_id          INTEGER NOT NULL,
    name                TEXT    NOT NULL,
    creator_id          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    steps_id            INTEGER NOT NULL REFERENCES step_lists (id),
    unsubscribe_enabled INTEGER NOT NULL,
    unsubscribe_locale  TEXT    NOT NULL
);
CREATE INDEX sequences_by_account ON sequences (account_id, id);

CREATE TABLE enrollments (
    id                    INTEGER PRIMARY KEY,
    account_id            INTEGER NOT NULL,
    actor_id              INTEGER NOT NULL,
    sequence_id           INTEGER NOT NULL,
    resource_type         TEXT    NOT NULL,
    resource_id           INTEGER NOT NULL,
    state                 TEXT    NOT NULL CHECK (state IN ('active', 'blocked', 'finished')),
    current_step_position INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    started_at            INTEGER NOT NULL,
    finished_at           INTEGER,
    finished_reason       TEXT,
    finished_actor_id     INTEGER,
    due_at                INTEGER,
    steps_id              INTEGER NOT NULL REFERENCES step_lists (id),
    actions               TEXT    NOT NULL  -- JSON: [[status, estimated_execute_at, executed_at,
                                            --   failure_reason, task_id, generation, attempts,
                                            --   resumed_at], ...] one per step
);
CREATE INDEX enrollments_by_account ON enrollments (account_id, id);
-- Only ongoing enrollments are indexed by resource: finished ones never match.
-- (The implicit trailing rowid serves `ORDER BY id`, so no sort is needed.)
CREATE INDEX enrollments_ongoing ON enrollments (account_id, resource_type, resource_id)
    WHERE state != 'finished';
-- The scheduler's queue: only enrollments with work ahead are in it.
CREATE INDEX enrollments_due ON enrollments (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE tasks (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL,
    creator_id    INTEGER NOT NULL,
    owner_id      INTEGER NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   INTEGER NOT NULL,
    content       TEXT    NOT NULL,
    due_date      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    enrollment_id INTEGER,
    position      INTEGER,
    completed     INTEGER NOT NULL,
    completed_at  INTEGER,
    remind_at     INTEGER
);
CREATE INDEX tasks_by_account ON tasks (account_id, id);

CREATE TABLE send_counts (
    scope    TEXT    NOT NULL,
    owner_id INTEGER NOT NULL,
    day      TEXT    NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (scope, owner_id, day)
) WITHOUT ROWID;

CREATE TABLE outbox (
    seq               INTEGER PRIMARY KEY,
    idempotency_key   TEXT    NOT NULL UNIQUE,
    account_id        INTEGER NOT NULL,
    enrollment_id     INTEGER NOT NULL,
    position          INTEGER NOT NULL,
    email_template_id INTEGER,
    is_reply          INTEGER NOT NULL,
    actor_id          INTEGER NOT NULL,
    resource_type     TEXT    NOT NULL,
    resource_id       INTEGER NOT NULL,
    sent_at           INTEGER NOT NULL
);
CREATE INDEX outbox_by_account ON outbox (account_id, seq);

CREATE TABLE failure_rules (
    seq            INTEGER PRIMARY KEY,  -- keeps the order rules were first set in
    account_id     INTEGER NOT NULL,
    resource_type  TEXT    NOT NULL,
    resource_id    INTEGER NOT NULL,
    failure_reason TEXT    NOT NULL,
    UNIQUE (account_id, resource_type, resource_id)
);

CREATE TABLE idempotent_responses (
    account_id INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    body       BLOB    NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;

-- migration: 2 claims: the scheduler's leases, fenced by a sequence number
-- claim_seq goes up by one on every claim and is never reset: a worker's lease is
-- the pair (claimed_by, claim_seq), so a lease taken over is told from its successor.
ALTER TABLE enrollments ADD COLUMN claimed_by TEXT;
ALTER TABLE enrollments ADD COLUMN claim_until INTEGER;
ALTER TABLE enrollments ADD COLUMN claim_seq INTEGER NOT NULL DEFAULT 0;

-- migration: 3 catalog version: bumped by every change to accounts, users, tokens, sequences
-- Each process caches the catalog and checks this one number once per transaction
-- (engine/adapters/storage/catalog_cache.py); the triggers bump it in the writer's own
-- transaction, so whichever process changes the catalog, every other one sees it.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 1);
CREATE TRIGGER accounts_insert_catalog AFTER INSERT ON accounts
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER accounts_update_catalog AFTER UPDATE ON accounts
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER accounts_delete_catalog AFTER DELETE ON accounts
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER users_insert_catalog AFTER INSERT ON users
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER users_update_catalog AFTER UPDATE ON users
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER users_delete_catalog AFTER DELETE ON users
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER api_tokens_insert_catalog AFTER INSERT ON api_tokens
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER api_tokens_update_catalog AFTER UPDATE ON api_tokens
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER api_tokens_delete_catalog AFTER DELETE ON api_tokens
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER sequences_insert_catalog AFTER INSERT ON sequences
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER sequences_update_catalog AFTER UPDATE ON sequences
BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER sequences_delete_catalog AFTER DELETE ON sequences
BEGIN UPDATE catalog_version SET version = version + 1; END;

-- migration: 4 enrollments version: bumped by every change a page of enrollments shows
-- GET a page's fast path (engine/adapters/http/fast_get.py) answers a kept page when
-- this number and the catalog version are those it was rendered at: one autocommit
-- SELECT instead of a transaction and the page's rows. The triggers bump it in the
-- writer's own transaction, so a write of any process (or of plain SQL) is seen. An
-- UPDATE bumps it only when it sets a column a page renders from: the scheduler's claims
-- (claimed_by, claim_until, claim_seq) and its queue (due_at, never rendered) leave it.
-- Step lists are immutable and never deleted; their triggers hold plain SQL to it too.
CREATE TABLE enrollments_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO enrollments_version (id, version) VALUES (1, 1);
CREATE TRIGGER enrollments_insert_version AFTER INSERT ON enrollments
BEGIN UPDATE enrollments_version SET version = version + 1; END;
CREATE TRIGGER enrollments_update_version AFTER UPDATE OF
    id, account_id, actor_id, sequence_id, resource_type, resource_id, state,
    current_step_position, created_at, updated_at, started_at, finished_at,
    finished_reason, finished_actor_id, steps_id, actions ON enrollments
BEGIN UPDATE enrollments_version SET version = version + 1; END;
CREATE TRIGGER enrollments_delete_version AFTER DELETE ON enrollments
BEGIN UPDATE enrollments_version SET version = version + 1; END;
CREATE TRIGGER step_lists_insert_version AFTER INSERT ON step_lists
BEGIN UPDATE enrollments_version SET version = version + 1; END;
CREATE TRIGGER step_lists_update_version AFTER UPDATE ON step_lists
BEGIN UPDATE enrollments_version SET version = version + 1; END;
CREATE TRIGGER step_lists_delete_version AFTER DELETE ON step_lists
BEGIN UPDATE enrollments_version SET version = version + 1; END;
