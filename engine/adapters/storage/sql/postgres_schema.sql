-- The PostgreSQL schema, as numbered migrations. migrate() applies, in one
-- transaction under an advisory lock, every migration above the version
-- recorded in schema_version. Never edit a released migration: add the next
-- number. Tables are created in the store's schema: migrate() sets the
-- search_path, so nothing here names a schema.
--
-- Conventions: instants are timestamptz (UTC, microseconds); days are date;
-- enums are their wire values as text; a step list and an enrollment's actions
-- are JSON arrays in the same layout as the SQLite store's (instants inside
-- them are integer microseconds since 1970-01-01T00:00:00Z).

-- migration: 1 initial schema
CREATE TABLE id_allocator (
    kind    text   PRIMARY KEY,
    last_id bigint NOT NULL
);

CREATE TABLE accounts (
    id                bigint  PRIMARY KEY,
    name              text    NOT NULL,
    reach_enabled     boolean NOT NULL,
    daily_email_quota integer NOT NULL
);

CREATE TABLE users (
    id                bigint  PRIMARY KEY,
    account_id        bigint  NOT NULL,
    name              text    NOT NULL,
    time_zone         text    NOT NULL,
    holidays          text,
    weekmask          text    NOT NULL,
    send_window       text,
    daily_email_limit integer NOT NULL
);

CREATE TABLE api_tokens (
    token_hash text    PRIMARY KEY,
    user_id    bigint  NOT NULL,
    account_id bigint  NOT NULL,
    scopes     text[]  NOT NULL,  -- sorted
    revoked    boolean NOT NULL
);

-- Step lists are immutable values shared by sequences and enrollments: stored
-- once each, content-addressed by their JSON body.
CREATE TABLE step_lists (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    body text   NOT NULL UNIQUE  -- JSON: [[position, delay, unit, action_type,
                                 --         email_template_id, is_reply, task_content], ...]
);

CREATE TABLE sequences (
    id                  bigint      PRIMARY KEY,
    account_id          bigint      NOT NULL,
    name                text        NOT NULL,
    creator_id          bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    steps_id            bigint      NOT NULL REFERENCES step_lists (id),
    unsubscribe_enabled boolean     NOT NULL,
    unsubscribe_locale  text        NOT NULL
);
CREATE INDEX sequences_by_account ON sequences (account_id, id);

CREATE TABLE enrollments (
    id                    bigint      PRIMARY KEY,
    account_id            bigint      NOT NULL,
    actor_id              bigint      NOT NULL,
    sequence_id           bigint      NOT NULL,
    resource_type         text        NOT NULL,
    resource_id           bigint      NOT NULL,
    state                 text        NOT NULL CHECK (state IN ('active', 'blocked', 'finished')),
    current_step_position integer     NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    started_at            timestamptz NOT NULL,
    finished_at           timestamptz,
    finished_reason       text,
    finished_actor_id     bigint,
    due_at                timestamptz,
    steps_id              bigint      NOT NULL REFERENCES step_lists (id),
    actions               jsonb       NOT NULL,  -- [[status, estimated_execute_at, executed_at,
                                                 --   failure_reason, task_id, generation,
                                                 --   attempts, resumed_at], ...] one per step
    -- the scheduler's claim (never written by save_enrollment): who holds it,
    -- until when, and a fencing token that goes up by one on every claim
    claimed_by            text,
    claim_until           timestamptz,
    claim_seq             bigint      NOT NULL DEFAULT 0
);
CREATE INDEX enrollments_by_account ON enrollments (account_id, id);
-- Only ongoing enrollments are indexed by resource: finished ones never match.
CREATE INDEX enrollments_ongoing ON enrollments (account_id, resource_type, resource_id, id)
    WHERE state <> 'finished';
-- The scheduler's queue: only enrollments with work ahead are in it.
CREATE INDEX enrollments_due ON enrollments (due_at, id) WHERE due_at IS NOT NULL;

-- Wakes the schedulers listening on '<schema>_due' when work comes due sooner
-- than before: a new due enrollment, or a due_at set or moved earlier.
CREATE FUNCTION enrollments_notify_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.due_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.due_at IS NULL
                                   OR NEW.due_at < OLD.due_at) THEN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '_due', NEW.due_at::text);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER enrollments_due_notify AFTER INSERT OR UPDATE OF due_at ON enrollments
    FOR EACH ROW EXECUTE FUNCTION enrollments_notify_due();

CREATE TABLE tasks (
    id            bigint      PRIMARY KEY,
    account_id    bigint      NOT NULL,
    creator_id    bigint      NOT NULL,
    owner_id      bigint      NOT NULL,
    resource_type text        NOT NULL,
    resource_id   bigint      NOT NULL,
    content       text        NOT NULL,
    due_date      timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    enrollment_id bigint,
    position      integer,
    completed     boolean     NOT NULL,
    completed_at  timestamptz,
    remind_at     timestamptz
);
CREATE INDEX tasks_by_account ON tasks (account_id, id);

CREATE TABLE send_counts (
    scope    text    NOT NULL,
    owner_id bigint  NOT NULL,
    day      date    NOT NULL,
    count    integer NOT NULL,
    PRIMARY KEY (scope, owner_id, day)
);

CREATE TABLE outbox (
    seq               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key   text        NOT NULL UNIQUE,
    account_id        bigint      NOT NULL,
    enrollment_id     bigint      NOT NULL,
    position          integer     NOT NULL,
    email_template_id bigint,
    is_reply          boolean     NOT NULL,
    actor_id          bigint      NOT NULL,
    resource_type     text        NOT NULL,
    resource_id       bigint      NOT NULL,
    sent_at           timestamptz NOT NULL
);
CREATE INDEX outbox_by_account ON outbox (account_id, seq);

CREATE TABLE failure_rules (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the order rules were set in
    account_id     bigint NOT NULL,
    resource_type  text   NOT NULL,
    resource_id    bigint NOT NULL,
    failure_reason text   NOT NULL,
    UNIQUE (account_id, resource_type, resource_id)
);

CREATE TABLE idempotent_responses (
    account_id bigint  NOT NULL,
    key        text    NOT NULL,
    status     integer NOT NULL,
    body       bytea   NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- migration: 2 catalog version: bumped by every change to accounts, users, tokens, sequences
-- Each process caches the catalog for its read-only transactions and checks this one
-- number once per transaction (engine/adapters/storage/catalog_cache.py). The trigger
-- names the table's own schema, so a host's session with another search_path bumps it too.
CREATE TABLE catalog_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 1);
CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.catalog_version SET version = version + 1', TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$;
CREATE TRIGGER accounts_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER users_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER api_tokens_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER sequences_catalog AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sequences
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
