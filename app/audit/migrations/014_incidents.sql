-- Incidents (issue 15 items 3-5): what each conversation turn was allowed to see, so a catch-up or a
-- postmortem shows a late joiner only the turns their scope covers, and who typed it in Slack; and
-- one row per resolved alert thread with its postmortem. Both under the 90-day retention
-- (`aiops retention run`), like the incident memory kept in Qdrant.
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS scope JSONB;          -- scope_tag(): {"ns": [...]|null, "cw": bool}
ALTER TABLE conversations ADD COLUMN IF NOT EXISTS slack_user_id TEXT;   -- who typed a user turn

CREATE TABLE IF NOT EXISTS incidents (
    id UUID PRIMARY KEY,               -- uuid5 of "{channel}:{thread_ts}" (the Qdrant point id too)
    channel_id TEXT NOT NULL,
    thread_ts TEXT NOT NULL,
    alertname TEXT NOT NULL,
    namespaces TEXT[] NOT NULL,
    labels JSONB NOT NULL,
    link TEXT,                         -- Slack permalink of the thread
    fired_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    fix TEXT,                          -- the fix a person confirmed in the thread, redacted
    findings JSONB NOT NULL,           -- [text], redacted
    postmortem TEXT NOT NULL,          -- the Markdown posted to the thread
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (channel_id, thread_ts)
);
CREATE INDEX IF NOT EXISTS incidents_resolved ON incidents (resolved_at);
CREATE INDEX IF NOT EXISTS incidents_channel ON incidents (channel_id, resolved_at DESC);
