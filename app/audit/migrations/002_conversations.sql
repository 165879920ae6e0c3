-- Thread turns (conversation history). Under 90-day retention (`aiops retention run`).
CREATE TABLE IF NOT EXISTS conversations (
    id BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,          -- "{channel}:{thread_ts}"
    user_id TEXT NOT NULL,             -- Keycloak subject (or Slack id when unauthenticated)
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    audit_id UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS conversations_session ON conversations (session_id, id);
CREATE INDEX IF NOT EXISTS conversations_created ON conversations (created_at);
