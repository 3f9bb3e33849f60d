-- Every statement PostgresStore runs, by name. Parameters are %(named)s
-- (psycopg). Optional filters are written `(%(x)s IS NULL OR ...)`; id lists
-- are passed as one bigint[] array. Tables are found through the search_path,
-- which the store sets to its schema.
--
-- Reads that a write unit of work may act on get a locking clause appended by
-- the store (see postgres_unit.LOCKS); the texts here are the plain reads.
--
-- Lists end in `ORDER BY {order}`: filled, once when the file is read, with each
-- entry of the sort whitelist (named_sql.sort_orders), giving one fixed
-- statement per list and sort. Names sort by code point (COLLATE "C"), as on
-- SQLite, whatever the database's collation.

-- name: create_schema_version
CREATE TABLE IF NOT EXISTS schema_version (
    version     integer PRIMARY KEY,
    description text    NOT NULL
);

-- name: schema_version
SELECT coalesce(max(version), 0) AS version FROM schema_version;

-- name: newest_instant
SELECT max(t) AS newest FROM (
    SELECT max(updated_at) AS t FROM sequences
    UNION ALL SELECT max(updated_at) FROM enrollments
    UNION ALL SELECT max(updated_at) FROM tasks
    UNION ALL SELECT max(sent_at) FROM outbox
) AS instants;

-- name: record_migration
INSERT INTO schema_version (version, description) VALUES (%(version)s, %(description)s);

-- name: next_id
-- One more than both the last id handed out and the largest id saved, so ids
-- chosen by callers push the allocator past them without any work on save.
-- The allocator row stays locked until commit: ids are handed out in order.
INSERT INTO id_allocator AS a (kind, last_id)
VALUES (%(kind)s, 1 + coalesce(CASE %(kind)s::text
    WHEN 'account' THEN (SELECT max(id) FROM accounts)
    WHEN 'user' THEN (SELECT max(id) FROM users)
    WHEN 'sequence' THEN (SELECT max(id) FROM sequences)
    WHEN 'enrollment' THEN (SELECT max(id) FROM enrollments)
    WHEN 'task' THEN (SELECT max(id) FROM tasks)
END, 0))
ON CONFLICT (kind) DO UPDATE SET last_id = greatest(a.last_id + 1, excluded.last_id)
RETURNING last_id;

-- name: id_taken
SELECT CASE %(kind)s::text
    WHEN 'account' THEN EXISTS (SELECT 1 FROM accounts WHERE id = %(id)s)
    WHEN 'user' THEN EXISTS (SELECT 1 FROM users WHERE id = %(id)s)
    WHEN 'sequence' THEN EXISTS (SELECT 1 FROM sequences WHERE id = %(id)s)
    WHEN 'enrollment' THEN EXISTS (SELECT 1 FROM enrollments WHERE id = %(id)s)
    WHEN 'task' THEN EXISTS (SELECT 1 FROM tasks WHERE id = %(id)s)
END AS taken;

-- name: remember_id
INSERT INTO id_allocator AS a (kind, last_id) VALUES (%(kind)s, %(id)s)
ON CONFLICT (kind) DO UPDATE SET last_id = greatest(a.last_id, excluded.last_id);

-- name: lock_key
SELECT pg_advisory_xact_lock(%(key)s);

-- name: catalog_version
SELECT version FROM catalog_version;

-- name: get_account
SELECT id, name, reach_enabled, daily_email_quota FROM accounts WHERE id = %(id)s;

-- name: save_account
INSERT INTO accounts (id, name, reach_enabled, daily_email_quota)
VALUES (%(id)s, %(name)s, %(reach_enabled)s, %(daily_email_quota)s)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name,
    reach_enabled = excluded.reach_enabled,
    daily_email_quota = excluded.daily_email_quota;

-- name: get_user
SELECT id, account_id, name, time_zone, holidays, weekmask, send_window, daily_email_limit
FROM users WHERE id = %(id)s;

-- name: get_users
SELECT id, account_id, name, time_zone, holidays, weekmask, send_window, daily_email_limit
FROM users WHERE id = ANY (%(ids)s::bigint[]);

-- name: save_user
INSERT INTO users (id, account_id, name, time_zone, holidays, weekmask, send_window,
                   daily_email_limit)
VALUES (%(id)s, %(account_id)s, %(name)s, %(time_zone)s, %(holidays)s, %(weekmask)s,
        %(send_window)s, %(daily_email_limit)s)
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
FROM users WHERE account_id = %(account_id)s
ORDER BY id LIMIT %(limit)s OFFSET %(offset)s;

-- name: get_token
SELECT token_hash, user_id, account_id, scopes, revoked FROM api_tokens
WHERE token_hash = %(token_hash)s;

-- name: save_token
INSERT INTO api_tokens (token_hash, user_id, account_id, scopes, revoked)
VALUES (%(token_hash)s, %(user_id)s, %(account_id)s, %(scopes)s, %(revoked)s)
ON CONFLICT (token_hash) DO UPDATE SET
    user_id = excluded.user_id,
    account_id = excluded.account_id,
    scopes = excluded.scopes,
    revoked = excluded.revoked;

-- name: find_step_list
SELECT id FROM step_lists WHERE body = %(body)s;

-- name: add_step_list
-- Another transaction may add the same body at once: the unique index makes
-- this wait for it, and then the DO UPDATE (a no-op) returns its id.
INSERT INTO step_lists (body) VALUES (%(body)s)
ON CONFLICT (body) DO UPDATE SET body = excluded.body
RETURNING id;

-- name: get_sequence
SELECT q.id, q.account_id, q.name, q.creator_id, q.created_at, q.updated_at,
       q.unsubscribe_enabled, q.unsubscribe_locale, s.body AS steps
FROM sequences q JOIN step_lists s ON s.id = q.steps_id
WHERE q.id = %(id)s AND q.account_id = %(account_id)s;

-- name: list_sequences
-- (The step list is read by a subquery, not a join, so the sort's bare column
-- names are the sequence's alone.)
SELECT q.id, q.account_id, q.name, q.creator_id, q.created_at, q.updated_at,
       q.unsubscribe_enabled, q.unsubscribe_locale,
       (SELECT body FROM step_lists WHERE step_lists.id = q.steps_id) AS steps
FROM sequences q
WHERE q.account_id = %(account_id)s
  AND (%(ids)s::bigint[] IS NULL OR q.id = ANY (%(ids)s::bigint[]))
  AND (%(name)s::text IS NULL OR q.name = %(name)s::text)
ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s;

-- name: save_sequence
INSERT INTO sequences (id, account_id, name, creator_id, created_at, updated_at, steps_id,
                       unsubscribe_enabled, unsubscribe_locale)
VALUES (%(id)s, %(account_id)s, %(name)s, %(creator_id)s, %(created_at)s, %(updated_at)s,
        %(steps_id)s, %(unsubscribe_enabled)s, %(unsubscribe_locale)s)
ON CONFLICT (id) DO UPDATE SET
    account_id = excluded.account_id,
    name = excluded.name,
    creator_id = excluded.creator_id,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at,
    steps_id = excluded.steps_id,
    unsubscribe_enabled = excluded.unsubscribe_enabled,
    unsubscribe_locale = excluded.unsubscribe_locale;

-- name: get_enrollment
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id,
       e.state, e.current_step_position, e.created_at, e.updated_at, e.started_at,
       e.finished_at, e.finished_reason, e.finished_actor_id, e.due_at, e.actions::text,
       s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.id = %(id)s AND e.account_id = %(account_id)s;

-- name: list_enrollments
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id,
       e.state, e.current_step_position, e.created_at, e.updated_at, e.started_at,
       e.finished_at, e.finished_reason, e.finished_actor_id, e.due_at, e.actions::text,
       (SELECT body FROM step_lists WHERE step_lists.id = e.steps_id) AS steps
FROM enrollments e
WHERE e.account_id = %(account_id)s
  AND (%(ids)s::bigint[] IS NULL OR e.id = ANY (%(ids)s::bigint[]))
  AND (%(resource_ids)s::bigint[] IS NULL OR e.resource_id = ANY (%(resource_ids)s::bigint[]))
  AND (%(resource_type)s::text IS NULL OR e.resource_type = %(resource_type)s::text)
  AND (%(sequence_id)s::bigint IS NULL OR e.sequence_id = %(sequence_id)s::bigint)
  AND (%(state)s::text IS NULL OR e.state = %(state)s::text)
ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s;

-- name: ongoing_for_resource
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id,
       e.state, e.current_step_position, e.created_at, e.updated_at, e.started_at,
       e.finished_at, e.finished_reason, e.finished_actor_id, e.due_at, e.actions::text,
       s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.account_id = %(account_id)s
  AND e.resource_type = %(resource_type)s AND e.resource_id = %(resource_id)s
  AND e.state <> 'finished'
  AND (%(sequence_ids)s::bigint[] IS NULL OR e.sequence_id = ANY (%(sequence_ids)s::bigint[]))
  AND (%(actor_id)s::bigint IS NULL OR e.actor_id = %(actor_id)s::bigint)
ORDER BY e.id;

-- name: ongoing_for_account
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id,
       e.state, e.current_step_position, e.created_at, e.updated_at, e.started_at,
       e.finished_at, e.finished_reason, e.finished_actor_id, e.due_at, e.actions::text,
       s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.account_id = %(account_id)s
  AND e.state <> 'finished'
  AND (%(sequence_ids)s::bigint[] IS NULL OR e.sequence_id = ANY (%(sequence_ids)s::bigint[]))
  AND (%(actor_id)s::bigint IS NULL OR e.actor_id = %(actor_id)s::bigint)
ORDER BY e.id;

-- name: due_enrollments
SELECT e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id,
       e.state, e.current_step_position, e.created_at, e.updated_at, e.started_at,
       e.finished_at, e.finished_reason, e.finished_actor_id, e.due_at, e.actions::text,
       s.body AS steps
FROM enrollments e JOIN step_lists s ON s.id = e.steps_id
WHERE e.due_at IS NOT NULL AND e.due_at <= %(now)s
ORDER BY e.due_at, e.id LIMIT %(limit)s;

-- name: next_due_at
SELECT min(due_at) AS due_at FROM enrollments WHERE due_at IS NOT NULL;

-- name: count_due
SELECT count(*) AS n FROM enrollments WHERE due_at IS NOT NULL AND due_at <= %(now)s;

-- name: save_enrollment
-- The claim columns (claimed_by, claim_until, claim_seq) are never written here.
INSERT INTO enrollments (id, account_id, actor_id, sequence_id, resource_type, resource_id,
                         state, current_step_position, created_at, updated_at, started_at,
                         finished_at, finished_reason, finished_actor_id, due_at, steps_id,
                         actions)
VALUES (%(id)s, %(account_id)s, %(actor_id)s, %(sequence_id)s, %(resource_type)s,
        %(resource_id)s, %(state)s, %(current_step_position)s, %(created_at)s, %(updated_at)s,
        %(started_at)s, %(finished_at)s, %(finished_reason)s, %(finished_actor_id)s,
        %(due_at)s, %(steps_id)s, %(actions)s)
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

-- name: claim_due
-- Lease the earliest due enrollments that no other transaction has locked.
-- The lease's expiry becomes the new due_at: an abandoned claim comes due
-- again when it runs out.
WITH due AS (
    SELECT id, due_at AS was_due FROM enrollments
    WHERE due_at IS NOT NULL AND due_at <= %(now)s
    ORDER BY due_at, id LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE enrollments e
SET claim_seq = e.claim_seq + 1, claimed_by = %(worker)s, claim_until = %(until)s,
    due_at = %(until)s
FROM due, step_lists s
WHERE e.id = due.id AND s.id = e.steps_id
RETURNING e.id, e.account_id, e.actor_id, e.sequence_id, e.resource_type, e.resource_id,
          e.state, e.current_step_position, e.created_at, e.updated_at, e.started_at,
          e.finished_at, e.finished_reason, e.finished_actor_id, e.due_at, e.actions::text,
          s.body AS steps, e.claim_seq, due.was_due;

-- name: renew_leases
-- The rows are locked in id order, as a batch of records locks them: a heartbeat
-- and a record of the same worker never wait on each other in a cycle.
WITH held AS (
    SELECT e.id FROM enrollments e
    JOIN unnest(%(ids)s::bigint[], %(seqs)s::bigint[], %(workers)s::text[]) AS l (id, seq, worker)
      ON e.id = l.id AND e.claim_seq = l.seq AND e.claimed_by = l.worker
    ORDER BY e.id
    FOR UPDATE OF e
)
UPDATE enrollments e SET claim_until = %(until)s, due_at = %(until)s
FROM held
WHERE e.id = held.id
RETURNING e.id, e.account_id, e.claimed_by, e.claim_seq;

-- name: lease_holds
SELECT EXISTS (
    SELECT 1 FROM enrollments
    WHERE id = %(id)s AND claim_seq = %(seq)s AND claimed_by = %(worker)s
      AND claim_until > %(now)s AND state <> 'finished'
) AS holds;

-- name: release_lease
UPDATE enrollments SET claimed_by = NULL, claim_until = NULL
WHERE id = %(id)s AND claim_seq = %(seq)s AND claimed_by = %(worker)s;

-- name: end_leases
-- release_lease of leases the same transaction took (claim_due): their rows are
-- locked already, so the order they are updated in does not matter.
UPDATE enrollments e SET claimed_by = NULL, claim_until = NULL
FROM unnest(%(ids)s::bigint[], %(seqs)s::bigint[], %(workers)s::text[]) AS l (id, seq, worker)
WHERE e.id = l.id AND e.claim_seq = l.seq AND e.claimed_by = l.worker;

-- name: get_task
SELECT * FROM tasks WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: list_tasks
SELECT * FROM tasks
WHERE account_id = %(account_id)s
  AND (%(ids)s::bigint[] IS NULL OR id = ANY (%(ids)s::bigint[]))
  AND (%(resource_type)s::text IS NULL OR resource_type = %(resource_type)s::text)
  AND (%(resource_id)s::bigint IS NULL OR resource_id = %(resource_id)s::bigint)
  AND (%(completed)s::boolean IS NULL OR completed = %(completed)s::boolean)
ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s;

-- name: save_task
INSERT INTO tasks (id, account_id, creator_id, owner_id, resource_type, resource_id, content,
                   due_date, created_at, updated_at, enrollment_id, position, completed,
                   completed_at, remind_at)
VALUES (%(id)s, %(account_id)s, %(creator_id)s, %(owner_id)s, %(resource_type)s,
        %(resource_id)s, %(content)s, %(due_date)s, %(created_at)s, %(updated_at)s,
        %(enrollment_id)s, %(position)s, %(completed)s, %(completed_at)s, %(remind_at)s)
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
DELETE FROM tasks WHERE id = %(id)s AND account_id = %(account_id)s;

-- name: count_sends
SELECT count FROM send_counts
WHERE scope = %(scope)s AND owner_id = %(owner_id)s AND day = %(day)s;

-- name: count_sends_locked
-- In a write unit the counter row is created if missing and locked, so the
-- check against a limit and the add_send that follows it are not split by
-- another worker's send.
INSERT INTO send_counts AS c (scope, owner_id, day, count)
VALUES (%(scope)s, %(owner_id)s, %(day)s, 0)
ON CONFLICT (scope, owner_id, day) DO UPDATE SET count = c.count
RETURNING count;

-- name: count_sends_many
SELECT c.scope, c.owner_id, c.day, c.count
FROM send_counts c
JOIN unnest(%(scopes)s::text[], %(owners)s::bigint[], %(days)s::date[]) AS k (scope, owner_id, day)
  ON (c.scope, c.owner_id, c.day) = (k.scope, k.owner_id, k.day);

-- name: count_sends_many_locked
-- count_sends_locked for many counters in one statement. The rows are inserted or
-- locked in the order of the ORDER BY, which is the key order every caller uses:
-- two claimers locking overlapping counters cannot deadlock.
INSERT INTO send_counts AS c (scope, owner_id, day, count)
SELECT DISTINCT k.scope, k.owner_id, k.day, 0
FROM unnest(%(scopes)s::text[], %(owners)s::bigint[], %(days)s::date[]) AS k (scope, owner_id, day)
ORDER BY k.scope, k.owner_id, k.day
ON CONFLICT (scope, owner_id, day) DO UPDATE SET count = c.count
RETURNING c.scope, c.owner_id, c.day, c.count;

-- name: add_send
INSERT INTO send_counts AS c (scope, owner_id, day, count)
VALUES (%(scope)s, %(owner_id)s, %(day)s, %(delta)s)
ON CONFLICT (scope, owner_id, day) DO UPDATE SET count = c.count + excluded.count;

-- name: add_sends
-- add_send for many counters in one statement (keys distinct), returning the new
-- totals. The rows are inserted or locked in key order, as count_sends_many_locked
-- locks them. A claim that read its counters unlocked sends this last, just before
-- its COMMIT, so the rows (one per account and day, shared by every claimer) stay
-- locked for little more than the commit.
INSERT INTO send_counts AS c (scope, owner_id, day, count)
SELECT k.scope, k.owner_id, k.day, k.delta
FROM unnest(%(scopes)s::text[], %(owners)s::bigint[], %(days)s::date[], %(deltas)s::integer[])
    AS k (scope, owner_id, day, delta)
ORDER BY k.scope, k.owner_id, k.day
ON CONFLICT (scope, owner_id, day) DO UPDATE SET count = c.count + excluded.count
RETURNING c.scope, c.owner_id, c.day, c.count;

-- name: get_idempotent
SELECT status, body FROM idempotent_responses
WHERE account_id = %(account_id)s AND key = %(key)s;

-- name: save_idempotent
INSERT INTO idempotent_responses (account_id, key, status, body)
VALUES (%(account_id)s, %(key)s, %(status)s, %(body)s)
ON CONFLICT (account_id, key) DO NOTHING;

-- name: add_outbox_message
INSERT INTO outbox (idempotency_key, account_id, enrollment_id, position, email_template_id,
                    is_reply, actor_id, resource_type, resource_id, sent_at)
VALUES (%(idempotency_key)s, %(account_id)s, %(enrollment_id)s, %(position)s,
        %(email_template_id)s, %(is_reply)s, %(actor_id)s, %(resource_type)s,
        %(resource_id)s, %(sent_at)s)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: add_outbox_messages
-- add_outbox_message of many messages in one statement, recorded (numbered) in the
-- order given; a key recorded before, or earlier in the list, is left alone.
INSERT INTO outbox (idempotency_key, account_id, enrollment_id, position, email_template_id,
                    is_reply, actor_id, resource_type, resource_id, sent_at)
SELECT m.idempotency_key, m.account_id, m.enrollment_id, m.position, m.email_template_id,
       m.is_reply, m.actor_id, m.resource_type, m.resource_id, m.sent_at
FROM unnest(%(keys)s::text[], %(account_ids)s::bigint[], %(enrollment_ids)s::bigint[],
            %(positions)s::integer[], %(template_ids)s::bigint[], %(replies)s::boolean[],
            %(actor_ids)s::bigint[], %(resource_types)s::text[], %(resource_ids)s::bigint[],
            %(sent_ats)s::timestamptz[]) WITH ORDINALITY
    AS m (idempotency_key, account_id, enrollment_id, position, email_template_id, is_reply,
          actor_id, resource_type, resource_id, sent_at, n)
ORDER BY m.n
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: list_outbox
SELECT * FROM outbox WHERE account_id = %(account_id)s
ORDER BY seq LIMIT %(limit)s OFFSET %(offset)s;

-- name: failure_rules
SELECT account_id, resource_type, resource_id, failure_reason FROM failure_rules
WHERE account_id = %(account_id)s ORDER BY seq;

-- name: set_failure_rule
INSERT INTO failure_rules (account_id, resource_type, resource_id, failure_reason)
VALUES (%(account_id)s, %(resource_type)s, %(resource_id)s, %(failure_reason)s)
ON CONFLICT (account_id, resource_type, resource_id) DO UPDATE SET
    failure_reason = excluded.failure_reason;

-- name: clear_failure_rules
DELETE FROM failure_rules WHERE account_id = %(account_id)s;
