-- Notification service state (docs/CONTRACT.md, "Routes" and "Tables").
CREATE TABLE IF NOT EXISTS subscribers (
    user_id    text PRIMARY KEY CHECK (char_length(user_id) BETWEEN 1 AND 128),
    email      text,
    timezone   text NOT NULL DEFAULT 'UTC',
    channels   text[] NOT NULL DEFAULT '{email,push}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS devices (
    token      text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES subscribers (user_id) ON DELETE CASCADE,
    platform   text CHECK (platform IN ('android', 'ios', 'web')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS devices_user_id ON devices (user_id);

-- One row per (reminder, channel, recipient): the exactly-once claim.
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id         uuid PRIMARY KEY,
    user_id             text NOT NULL,
    task_id             uuid NOT NULL,
    remind_at           timestamptz NOT NULL,
    channel             text NOT NULL CHECK (channel IN ('email', 'push')),
    recipient           text NOT NULL,
    status              text NOT NULL CHECK (status IN ('pending', 'retrying', 'sent', 'failed')),
    attempts            integer NOT NULL DEFAULT 0,
    provider_message_id text,
    last_error          text,
    reason              text,
    next_attempt_at     timestamptz,
    -- While a handler calls the provider it holds the row until lease_until
    -- (compare-and-set in the claim): a concurrent redelivery answers RETRY
    -- instead of sending again, and a crashed attempt is claimable once the
    -- lease has passed. NULL when no attempt is in flight.
    lease_until         timestamptz,
    outcome_published   boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (task_id, remind_at, channel, recipient)
);
CREATE INDEX IF NOT EXISTS deliveries_user_newest ON deliveries (user_id, created_at DESC, delivery_id DESC);
CREATE INDEX IF NOT EXISTS deliveries_unpublished ON deliveries (updated_at) WHERE NOT outcome_published AND status IN ('sent', 'failed');

-- Cached FCM OAuth2 access token, so a burst of reminders mints one token.
CREATE TABLE IF NOT EXISTS fcm_tokens (
    client_email text PRIMARY KEY,
    access_token text NOT NULL,
    expires_at   timestamptz NOT NULL
);
