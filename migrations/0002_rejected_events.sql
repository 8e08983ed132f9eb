-- Every event answered DROP is kept here, so nothing is lost even where no
-- dead-letter topic is configured (docs/CONTRACT.md, "Dapr behaviour").
CREATE TABLE IF NOT EXISTS rejected_events (
    rejection_id bigserial PRIMARY KEY,
    id           text,            -- the CloudEvent id, when readable
    source       text,
    type         text,
    topic        text NOT NULL,
    reason       text NOT NULL,   -- stable snake_case code
    detail       text NOT NULL DEFAULT '',
    payload      text NOT NULL,   -- truncated to 64 KiB
    received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS rejected_events_received_at ON rejected_events (received_at);
