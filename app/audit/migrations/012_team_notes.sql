-- Team memory (`/aiops remember`): notes for a channel's namespaces. Under the 90-day retention
-- (`aiops retention run`). A note flagged by the injection guard is kept for review but never
-- reaches the model.
CREATE TABLE IF NOT EXISTS team_notes (
    id BIGSERIAL PRIMARY KEY,
    channel_id TEXT NOT NULL,
    namespaces TEXT[] NOT NULL,
    note TEXT NOT NULL,
    flagged TEXT,                      -- the injection pattern found, NULL when clean
    created_by TEXT NOT NULL,          -- Keycloak subject
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS team_notes_created ON team_notes (created_at);
CREATE INDEX IF NOT EXISTS team_notes_namespaces ON team_notes USING gin (namespaces);
