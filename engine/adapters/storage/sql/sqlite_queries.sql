-- Every statement SqliteStore runs, by name. Parameters are :named. Fixed
-- texts keep sqlite3's per-connection statement cache hot; optional filters
-- are written `(:x IS NULL OR ...)` and id lists are passed as one JSON array.
--
-- Lists end in `ORDER BY {order}`: a placeholder, because SQL cannot bind a
-- column. It is filled, once when the file is read, with each entry of the
-- sort whitelist (named_sql.sort_orders: `created_at DESC, id DESC`, ...),
-- giving one fixed statement per list and sort; user input only picks one.
-- The names are bare, so a list reads from its one table only.

-- name: create_schema_version
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL
);

-- name: schema_version
SELECT coalesce(max(version), 0) AS version FROM schema_version;

-- name: newest_instant
SELECT max(t) FROM (
    SELECT max(updated_at) AS t FROM sequences
    UNION ALL SELECT max(updated_at) FROM enrollments
    UNION ALL SELECT max(updated_at) FROM tasks
    UNION ALL SELECT max(sent_at) FROM outbox
);

-- name: record_migration
INSERT INTO schema_version (version, description) VALUES (:version, :description);

-- name: next_id
-- One more than both the last id handed out and the largest id saved, so ids
-- chosen by callers push the allocator past them without any work on save.
INSERT INTO id_allocator (kind, last_id)
VALUES (:kind, 1 + coalesce(CASE :kind
    WHEN 'account' THEN (SELECT max(id) FROM accounts)
    WHEN 'user' THEN (SELECT max(id) FROM users)
    WHEN 'sequence' THEN (SELECT max(id) FROM sequences)
    WHEN 'enrollment' THEN (SELECT max(id) FROM enrollments)
    WHEN 'task' THEN (SELECT max(id) FROM tasks)
END, 0))
ON CONFLICT (kind) DO UPDATE SET last_id = max(id_allocator.last_id + 1, excluded.last_id)
RETURNING last_id;

-- name: enrollment_id_top
-- The largest enrollment id saved or handed out before (enrollments are never deleted):
-- next_id("enrollment") counts on from it (sqlite_unit.py, _next_enrollment_id).
SELECT max(coalesce((SELECT max(id) FROM enrollments), 0),
           coalesce((SELECT last_id FROM id_allocator WHERE kind = 'enrollment'), 0));

-- name: id_taken
SELECT CASE :kind
    WHEN 'account' THEN EXISTS (SELECT 1 FROM accounts WHERE id = :id)
    WHEN 'user' THEN EXISTS (SELECT 1 FROM users WHERE id = :id)
    WHEN 'sequence' THEN EXISTS (SELECT 1 FROM sequences WHERE id = :id)
    WHEN 'enrollment' THEN EXISTS (SELECT 1 FROM enrollments WHERE id = :id)
    WHEN 'task' THEN EXISTS (SELECT 1 FROM tasks WHERE id = :id)
END AS taken;

-- name: remember_id
INSERT INTO id_allocator (kind, last_id) VALUES (:kind, :id)
ON CONFLICT (kind) DO UPDATE SET last_id = max(id_allocator.last_id, excluded.last_id);

-- name: catalog_version
SELECT version FROM catalog_version;

-- name: get_account
SELECT id, name, reach_enabled, daily_email_quota FROM accounts WHERE id = :id;

-- name: save_account
INSERT INTO accounts (id, name, reach_enabled, daily_email_quota)
VALUES (:id, :name, :reach_enabled, :daily_email_quota)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name,
    reach_enabled = excluded.reach_enabled,
    daily_email_quota = excluded.daily_email_quota;

-- name: get_user
SELECT id, account_id, name, time_zone, holidays, weekmask, send_window, daily_email_limit
FROM users WHERE id = :id;

-- name: save_user
INSERT INTO users (id, account_id, name, time_zone, holidays, weekmask, send_window,
                   daily_email_limit)
VALUES (:id, :account_id, :name, :time_zone, :holidays, :weekmask, :send_window,
        :daily_email_limit)
ON CONFLICT (id) DO UPDATE SET
    account_id = excluded.account_id,
    name = excluded.name,
    time_zone = excluded.time_zone,
    holidays = excluded.holidays,
    weekmask = excluded.weekmask,
    send_window = excluded.send_window,
    daily_email_limit = excluded.daily_email_limit;

-- name: list_users
SELECT id, account_id, name, time_zone, holidays, weekmask, send_window, daily_email_limit
FROM users WHERE account_id = :account_id
ORDER BY id LIMIT :limit OFFSET :offset;

-- name: get_token
SELECT token_hash, user_id, account_id, scopes, revoked FROM api_tokens
WHERE token_hash = :token_hash;

-- name: save_token
INSERT INTO api_tokens (token_hash, user_id, account_id, scopes, revoked)
VALUES (:token_hash, :user_id, :account_id, :scopes, :revoked)
ON CONFLICT (token_hash) DO UPDATE SET
    user_id = excluded.user_id,
    account_id = excluded.account_id,
    scopes = excluded.scopes,
    revoked = excluded.revoked;

-- name: find_step_list
SELECT id FROM step_lists WHERE body = :body;

-- name: add_step_list
INSERT INTO step_lists (body) VALUES (:body) RETURNING id;

-- name: get_sequence
SELECT q.id, q.account_id, q.name, q.creator_id, q.created_at, q.updated_at,
       q.unsubscribe_enabled, q.unsubscribe_locale, s.body AS steps
FROM sequences q JOIN step_lists s ON s.id = q.steps_id
WHERE q.id = :id AND q.account_id = :account_id;

-- name: list_sequences
-- (The step list is read by a subquery, not a join, so that the sort's bare column
-- names are the sequence's alone.)
SELECT q.id, q.account_id, q.name, q.creator_id, q.created_at, q.updated_at,
       q.unsubscribe_enabled, q.unsubscribe_locale,
       (SELECT body FROM step_lists WHERE step_lists.id = q.steps_id) AS steps
FROM sequences q
WHERE q.account_id = :account_id
  AND (:ids IS NULL OR q.id IN (SELECT value FROM json_each(:ids)))
  AND (:name IS NULL OR q.name = :name)
ORDER BY {order} LIMIT :limit OFFSET :offset;

-- name: save_sequence
INSERT INTO sequences (id, account_id, name, creator_id, created_at, updated_at, steps_id,
                       unsubscribe_enabled, unsubscribe_locale)
VALUES (:id, :account_id, :name, :creator_id, :created_at, :updated_at, :steps_id,
        :unsubscribe_enabled, :unsubscribe_locale)
ON CONFLICT (id) DO UPDATE SET
    account_id = excluded.account_id,
    name = excluded.name,
    creator_id = excluded.creator_id,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at,
    steps_id = excluded.steps_id,
    unsubscribe_enabled = excluded.unsubscribe_enabled,
    unsubscribe_locale = excluded.unsubscribe_locale;

-- Enrollments are read as these columns in this order, then the step list's body
-- (sqlite_codec.enrollment_from unpacks them by position).

-- name: get_enrollment
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id, e.state,
       e.current_step_position, e.created_at, e.updated_at, e.started_at, e.finished_at,
       e.finished_reason, e.finished_actor_id, e.due_at, e.actions, s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.id = :id AND e.account_id = :account_id;

-- name: enrollment_stamp
-- What GET one's answer is rendered from (engine/adapters/http/fast_get.py), in one
-- statement, so at one snapshot even alone in autocommit: the catalog version and the
-- enrollment's row with its step list; always one row (NULLs after the version when
-- the account has no such enrollment).
SELECT v.version, e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type,
       e.resource_id, e.state, e.current_step_position, e.created_at, e.updated_at,
       e.started_at, e.finished_at, e.finished_reason, e.finished_actor_id, e.due_at,
       e.actions, s.body AS steps
FROM catalog_version v
LEFT JOIN enrollments e ON e.id = :id AND e.account_id = :account_id
LEFT JOIN step_lists s ON s.id = e.steps_id;

-- name: enrollments_version
SELECT version FROM enrollments_version;

-- name: page_stamp
-- What a kept page of enrollments is checked by (engine/adapters/http/fast_get.py), in
-- one statement, so at one snapshot even alone in autocommit: the catalog version and
-- the enrollments version (migration 4).
SELECT c.version, e.version FROM catalog_version c, enrollments_version e;

-- name: list_enrollments
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id, e.state,
       e.current_step_position, e.created_at, e.updated_at, e.started_at, e.finished_at,
       e.finished_reason, e.finished_actor_id, e.due_at, e.actions,
       (SELECT body FROM step_lists WHERE step_lists.id = e.steps_id) AS steps
FROM enrollments e
WHERE e.account_id = :account_id
  AND (:ids IS NULL OR e.id IN (SELECT value FROM json_each(:ids)))
  AND (:resource_ids IS NULL OR e.resource_id IN (SELECT value FROM json_each(:resource_ids)))
  AND (:resource_type IS NULL OR e.resource_type = :resource_type)
  AND (:sequence_id IS NULL OR e.sequence_id = :sequence_id)
  AND (:state IS NULL OR e.state = :state)
ORDER BY {order} LIMIT :limit OFFSET :offset;

-- name: ongoing_for_resource
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id, e.state,
       e.current_step_position, e.created_at, e.updated_at, e.started_at, e.finished_at,
       e.finished_reason, e.finished_actor_id, e.due_at, e.actions, s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.account_id = :account_id
  AND e.resource_type = :resource_type AND e.resource_id = :resource_id
  AND e.state != 'finished'
  AND (:sequence_ids IS NULL OR e.sequence_id IN (SELECT value FROM json_each(:sequence_ids)))
  AND (:actor_id IS NULL OR e.actor_id = :actor_id)
ORDER BY e.id;

-- name: ongoing_for_account
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id, e.state,
       e.current_step_position, e.created_at, e.updated_at, e.started_at, e.finished_at,
       e.finished_reason, e.finished_actor_id, e.due_at, e.actions, s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.account_id = :account_id
  AND e.state != 'finished'
  AND (:sequence_ids IS NULL OR e.sequence_id IN (SELECT value FROM json_each(:sequence_ids)))
  AND (:actor_id IS NULL OR e.actor_id = :actor_id)
ORDER BY e.id;

-- name: due_enrollments
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id, e.state,
       e.current_step_position, e.created_at, e.updated_at, e.started_at, e.finished_at,
       e.finished_reason, e.finished_actor_id, e.due_at, e.actions, s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.due_at IS NOT NULL AND e.due_at <= :now
ORDER BY e.due_at, e.id LIMIT :limit;

-- name: claim_due
UPDATE enrollments
SET claim_seq = claim_seq + 1, claimed_by = :worker, claim_until = :until, due_at = :until
WHERE id IN (SELECT id FROM enrollments WHERE due_at IS NOT NULL AND due_at <= :now
             ORDER BY due_at, id LIMIT :limit)
RETURNING id, account_id, claim_seq;

-- name: renew_lease
UPDATE enrollments SET claim_until = :until, due_at = :until
WHERE id = :id AND claimed_by = :worker AND claim_seq = :seq;

-- name: lease_holds
SELECT 1 FROM enrollments
WHERE id = :id AND claimed_by = :worker AND claim_seq = :seq AND claim_until > :now
  AND state != 'finished';

-- name: release_lease
UPDATE enrollments SET claimed_by = NULL, claim_until = NULL
WHERE id = :id AND claimed_by = :worker AND claim_seq = :seq;

-- name: next_due_at
SELECT min(due_at) AS due_at FROM enrollments WHERE due_at IS NOT NULL;

-- name: count_due
SELECT count(*) AS n FROM enrollments WHERE due_at IS NOT NULL AND due_at <= :now;

-- name: save_enrollment
INSERT INTO enrollments (id, account_id, actor_id, sequence_id, resource_type, resource_id,
                         state, current_step_position, created_at, updated_at, started_at,
                         finished_at, finished_reason, finished_actor_id, due_at, steps_id,
                         actions)
VALUES (:id, :account_id, :actor_id, :sequence_id, :resource_type, :resource_id,
        :state, :current_step_position, :created_at, :updated_at, :started_at,
        :finished_at, :finished_reason, :finished_actor_id, :due_at, :steps_id,
        :actions)
ON CONFLICT (id) DO UPDATE SET
    account_id = excluded.account_id,
    actor_id = excluded.actor_id,
    sequence_id = excluded.sequence_id,
    resource_type = excluded.resource_type,
    resource_id = excluded.resource_id,
    state = excluded.state,
    current_step_position = excluded.current_step_position,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at,
    started_at = excluded.started_at,
    finished_at = excluded.finished_at,
    finished_reason = excluded.finished_reason,
    finished_actor_id = excluded.finished_actor_id,
    due_at = excluded.due_at,
    steps_id = excluded.steps_id,
    actions = excluded.actions;

-- name: get_task
SELECT * FROM tasks WHERE id = :id AND account_id = :account_id;

-- name: list_tasks
SELECT * FROM tasks
WHERE account_id = :account_id
  AND (:ids IS NULL OR id IN (SELECT value FROM json_each(:ids)))
  AND (:resource_type IS NULL OR resource_type = :resource_type)
  AND (:resource_id IS NULL OR resource_id = :resource_id)
  AND (:completed IS NULL OR completed = :completed)
ORDER BY {order} LIMIT :limit OFFSET :offset;

-- name: save_task
INSERT INTO tasks (id, account_id, creator_id, owner_id, resource_type, resource_id, content,
                   due_date, created_at, updated_at, enrollment_id, position, completed,
                   completed_at, remind_at)
VALUES (:id, :account_id, :creator_id, :owner_id, :resource_type, :resource_id, :content,
        :due_date, :created_at, :updated_at, :enrollment_id, :position, :completed,
        :completed_at, :remind_at)
ON CONFLICT (id) DO UPDATE SET
    account_id = excluded.account_id,
    creator_id = excluded.creator_id,
    owner_id = excluded.owner_id,
    resource_type = excluded.resource_type,
    resource_id = excluded.resource_id,
    content = excluded.content,
    due_date = excluded.due_date,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at,
    enrollment_id = excluded.enrollment_id,
    position = excluded.position,
    completed = excluded.completed,
    completed_at = excluded.completed_at,
    remind_at = excluded.remind_at;

-- name: delete_task
DELETE FROM tasks WHERE id = :id AND account_id = :account_id;

-- name: count_sends
SELECT count FROM send_counts WHERE scope = :scope AND owner_id = :owner_id AND day = :day;

-- name: add_send
INSERT INTO send_counts (scope, owner_id, day, count) VALUES (:scope, :owner_id, :day, :delta)
ON CONFLICT (scope, owner_id, day) DO UPDATE SET count = send_counts.count + :delta;

-- name: get_idempotent
SELECT status, body FROM idempotent_responses WHERE account_id = :account_id AND key = :key;

-- name: save_idempotent
INSERT INTO idempotent_responses (account_id, key, status, body)
VALUES (:account_id, :key, :status, :body)
ON CONFLICT (account_id, key) DO NOTHING;

-- name: add_outbox_message
INSERT INTO outbox (idempotency_key, account_id, enrollment_id, position, email_template_id,
                    is_reply, actor_id, resource_type, resource_id, sent_at)
VALUES (:idempotency_key, :account_id, :enrollment_id, :position, :email_template_id,
        :is_reply, :actor_id, :resource_type, :resource_id, :sent_at)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: list_outbox
SELECT * FROM outbox WHERE account_id = :account_id
ORDER BY seq LIMIT :limit OFFSET :offset;

-- name: failure_rules
SELECT account_id, resource_type, resource_id, failure_reason FROM failure_rules
WHERE account_id = :account_id ORDER BY seq;

-- name: set_failure_rule
INSERT INTO failure_rules (account_id, resource_type, resource_id, failure_reason)
VALUES (:account_id, :resource_type, :resource_id, :failure_reason)
ON CONFLICT (account_id, resource_type, resource_id) DO UPDATE SET
    failure_reason = excluded.failure_reason;

-- name: clear_failure_rules
DELETE FROM failure_rules WHERE account_id = :account_id;
