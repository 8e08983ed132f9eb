-- The statements of the event paths as PL/pgSQL functions, so PostgreSQL
-- plans each of them once per connection instead of once per call.
--
-- Spin 3.6.3 prepares every statement anew (Parse/Describe, then
-- Bind/Execute) and its pool clean-up (`RecyclingMethod::Clean`) discards
-- nothing a function caches, so a function's static statements keep their
-- plans for the life of the pooled connection; the statement the component
-- sends is a one-line `SELECT f($1...)` that plans in microseconds. Each
-- function is the statement the component used to send, unchanged in
-- meaning (components/notification/src/events/store.rs,
-- components/recurrence/src/store.rs, crates/component-kit/src/dapr.rs);
-- what each does and why is documented there.

-- Keeps a delivery's dropped events: `rows` is a JSON array of
-- {id, source, type, topic, reason, detail, payload}.
CREATE OR REPLACE FUNCTION todo_keep_rejected(rows jsonb) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE kept integer;
BEGIN
    INSERT INTO rejected_events (id, source, type, topic, reason, detail, payload)
    SELECT r.id, r.source, r.type, r.topic, r.reason, r.detail, r.payload
    FROM jsonb_to_recordset(rows)
        AS r(id text, source text, type text, topic text, reason text, detail text, payload text);
    GET DIAGNOSTICS kept = ROW_COUNT;
    RETURN kept;
END
$fn$;

-- Round trip 1 of reminders: every user's subscriber and newest devices,
-- and the cached FCM token, as one value.
CREATE OR REPLACE FUNCTION todo_reminder_lookup(user_ids jsonb, max_devices integer, token_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $fn$
DECLARE found jsonb;
BEGIN
    WITH u AS (SELECT DISTINCT jsonb_array_elements_text(user_ids) AS user_id)
    SELECT jsonb_build_object(
        'users', COALESCE((SELECT jsonb_agg(jsonb_build_object(
            'user_id', u.user_id,
            'subscriber', (SELECT jsonb_build_object('email', s.email, 'timezone', s.timezone,
                                                     'channels', to_jsonb(s.channels))
                           FROM subscribers s WHERE s.user_id = u.user_id),
            'devices', COALESCE((SELECT jsonb_agg(d.token ORDER BY d.created_at, d.token)
                                 FROM (SELECT token, created_at FROM devices
                                       WHERE user_id = u.user_id
                                       ORDER BY created_at, token LIMIT max_devices) d),
                                '[]'::jsonb)))
            FROM u), '[]'::jsonb),
        'fcm_token', (SELECT jsonb_build_object('access_token', t.access_token,
                                                'expires_at', floor(extract(epoch FROM t.expires_at))::bigint)
                      FROM fcm_tokens t WHERE t.client_email = token_key))
    INTO found;
    RETURN found;
END
$fn$;

-- Round trip 2 of reminders: the compare-and-set claim of every delivery
-- (`input` a JSON array of {delivery_id, user_id, task_id, remind_at,
-- channel, recipient, status, reason, last_error}); one row per delivery
-- it knows. A delivery that cannot be served is inserted `failed` with
-- its reason and, in words, why.
CREATE OR REPLACE FUNCTION todo_reminder_claim(input jsonb, lease interval)
RETURNS SETOF jsonb
LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN QUERY
    WITH i AS (
        SELECT * FROM jsonb_to_recordset(input)
            AS r(delivery_id uuid, user_id text, task_id uuid, remind_at timestamptz,
                 channel text, recipient text, status text, reason text, last_error text)
    ), claimed AS (
        INSERT INTO deliveries AS d
            (delivery_id, user_id, task_id, remind_at, channel, recipient, status, reason,
             last_error, lease_until)
        SELECT i.delivery_id, i.user_id, i.task_id, i.remind_at, i.channel, i.recipient,
               i.status, i.reason, i.last_error,
               CASE WHEN i.status = 'pending' THEN now() + lease END
        FROM i
        ORDER BY i.delivery_id
        ON CONFLICT (delivery_id) DO UPDATE SET lease_until = now() + lease
            WHERE d.status IN ('pending', 'retrying')
              AND (d.lease_until IS NULL OR d.lease_until <= now())
              AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
        RETURNING d.delivery_id, d.status, d.attempts, d.reason, d.provider_message_id,
                  d.updated_at, d.outcome_published, d.lease_until, d.next_attempt_at
    )
    SELECT to_jsonb(c) || '{"claimed": true}'::jsonb FROM claimed c
    UNION ALL
    SELECT jsonb_build_object('delivery_id', d.delivery_id, 'status', d.status,
               'attempts', d.attempts, 'reason', d.reason,
               'provider_message_id', d.provider_message_id, 'updated_at', d.updated_at,
               'outcome_published', d.outcome_published, 'lease_until', d.lease_until,
               'next_attempt_at', d.next_attempt_at, 'claimed', false)
    FROM deliveries d JOIN i ON i.delivery_id = d.delivery_id
    WHERE NOT EXISTS (SELECT 1 FROM claimed c WHERE c.delivery_id = d.delivery_id);
END
$fn$;

-- Round trip 3 of reminders: settles the deliveries this handler still
-- holds the lease of, marks re-published outcomes, deletes dead device
-- tokens and caches a minted access token; each part only when given.
-- `settle_rows`: JSON array of {delivery_id, settle, lease_until, status,
-- reason, attempts, provider_message_id, last_error, retry_after_secs, at,
-- published}; `dead`: JSON array of {user_id, token}.
CREATE OR REPLACE FUNCTION todo_reminder_record(
    settle_rows jsonb, dead jsonb, token_key text, minted_token text, token_expires_at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    settled integer := 0;
    marked integer := 0;
    deleted integer := 0;
    cached integer := 0;
BEGIN
    IF settle_rows IS NOT NULL THEN
        UPDATE deliveries d SET
            status = i.status,
            reason = i.reason,
            attempts = i.attempts,
            provider_message_id = COALESCE(i.provider_message_id, d.provider_message_id),
            last_error = CASE WHEN i.status = 'sent' THEN NULL
                              ELSE COALESCE(i.last_error, d.last_error) END,
            next_attempt_at = CASE WHEN i.retry_after_secs IS NULL THEN NULL
                                   ELSE now() + make_interval(secs => i.retry_after_secs) END,
            lease_until = NULL,
            outcome_published = i.published,
            updated_at = i.at
        FROM jsonb_to_recordset(settle_rows) AS i(
            delivery_id uuid, settle boolean, lease_until timestamptz, status text, reason text,
            attempts int, provider_message_id text, last_error text, retry_after_secs float8,
            at timestamptz, published boolean)
        WHERE i.settle AND d.delivery_id = i.delivery_id
          AND d.status IN ('pending', 'retrying') AND d.lease_until = i.lease_until;
        GET DIAGNOSTICS settled = ROW_COUNT;
        UPDATE deliveries d SET outcome_published = true
        FROM jsonb_to_recordset(settle_rows) AS i(delivery_id uuid, settle boolean)
        WHERE NOT i.settle AND d.delivery_id = i.delivery_id AND d.status IN ('sent', 'failed')
          AND NOT d.outcome_published;
        GET DIAGNOSTICS marked = ROW_COUNT;
    END IF;
    IF dead IS NOT NULL THEN
        DELETE FROM devices d
        USING jsonb_to_recordset(dead) AS g(user_id text, token text)
        WHERE d.user_id = g.user_id AND d.token = g.token;
        GET DIAGNOSTICS deleted = ROW_COUNT;
    END IF;
    IF token_key IS NOT NULL THEN
        INSERT INTO fcm_tokens AS t (client_email, access_token, expires_at)
        VALUES (token_key, minted_token, token_expires_at)
        ON CONFLICT (client_email) DO UPDATE
            SET access_token = EXCLUDED.access_token, expires_at = EXCLUDED.expires_at
            WHERE t.expires_at < EXCLUDED.expires_at;
        GET DIAGNOSTICS cached = ROW_COUNT;
    END IF;
    RETURN jsonb_build_object('settled', settled, 'marked', marked, 'deleted', deleted,
                              'cached', cached);
END
$fn$;

-- Round trip 1 of completions: the completed tasks (`ids` a JSON array)
-- with their series' first due_at.
CREATE OR REPLACE FUNCTION todo_completion_load(ids jsonb) RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    RETURN QUERY
    SELECT jsonb_build_object('id', t.id, 'series_id', t.series_id,
               'occurrence', t.occurrence, 'due_at', t.due_at, 'remind_at', t.remind_at,
               'completed_at', t.completed_at, 'recurrence_rule', t.recurrence_rule,
               'recurrence_anchor', t.recurrence_anchor, 'timezone', t.timezone,
               'series_start', (SELECT s.due_at FROM tasks s WHERE s.id = t.series_id))
    FROM tasks t
    WHERE t.id IN (SELECT jsonb_array_elements_text(ids)::uuid);
END
$fn$;

-- Round trip 2 of completions: inserts each next occurrence unless it
-- exists and answers every one asked for that it can see.
CREATE OR REPLACE FUNCTION todo_completion_insert(input jsonb) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN QUERY
    WITH i AS (
        SELECT * FROM jsonb_to_recordset(input) AS r(
            completed_id uuid, id uuid, series_id uuid, occurrence int4,
            due_at timestamptz, remind_at timestamptz)
    ), ins AS (
        INSERT INTO tasks (id, user_id, title, description, priority, tags, due_at, remind_at,
                           completed, completed_at, recurrence_rule, recurrence_anchor, timezone,
                           series_id, occurrence)
        SELECT i.id, t.user_id, t.title, t.description, t.priority, t.tags, i.due_at, i.remind_at,
               false, NULL, t.recurrence_rule, t.recurrence_anchor, t.timezone,
               i.series_id, i.occurrence
        FROM i JOIN tasks t ON t.id = i.completed_id
        ORDER BY i.id
        ON CONFLICT DO NOTHING
        RETURNING *
    )
    SELECT jsonb_build_object('inserted', true, 'task', to_jsonb(ins)) FROM ins
    UNION ALL
    SELECT jsonb_build_object('inserted', false, 'task', to_jsonb(t))
    FROM tasks t JOIN i ON t.series_id = i.series_id AND t.occurrence = i.occurrence
    WHERE NOT EXISTS (SELECT 1 FROM ins
                      WHERE ins.series_id = i.series_id AND ins.occurrence = i.occurrence);
END
$fn$;
