-- Scheduled digests per channel (`/aiops jobs`). `next_run_at` is claimed with FOR UPDATE SKIP
-- LOCKED, so one firing runs once however many workers poll.
CREATE TABLE IF NOT EXISTS schedules (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    cron TEXT NOT NULL,
    timezone TEXT NOT NULL,
    created_by TEXT NOT NULL,            -- Keycloak subject of the admin who added it
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    next_run_at TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ,
    UNIQUE (channel_id, name)
);
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_run_at);
