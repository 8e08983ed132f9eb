-- GET /metrics (docs/CONTRACT.md, "Metrics") counts rows at every scrape, in
-- one statement (components/metrics/src/store.rs). These indexes let the
-- counts over the big tables read a small index instead of the table
-- (index-only scans: the tables are append-mostly, so autovacuum keeps the
-- visibility map set). bench/metrics_scrape.sh measures it over 1 million
-- deliveries. The outbox count already has deliveries_unpublished (0003)
-- and the scheduler backlog tasks_reminders_due (0004).

-- todo_deliveries{channel,status}: about 6 MB per million rows instead of
-- the table's 128 MB.
CREATE INDEX IF NOT EXISTS deliveries_channel_status ON deliveries (channel, status);

-- todo_generated_tasks: only the occurrences the recurrence service made.
CREATE INDEX IF NOT EXISTS tasks_generated ON tasks (occurrence) WHERE occurrence > 1;
