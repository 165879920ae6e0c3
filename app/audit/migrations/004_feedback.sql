-- Feedback buttons under answers (👍/👎). One row per click; append-only like the audit log:
-- a user who changes their mind adds a row, the latest one per (audit_id, user) counts.
CREATE TABLE IF NOT EXISTS feedback (
    id BIGSERIAL PRIMARY KEY,
    audit_id UUID NOT NULL,            -- the answer's `query` audit event id (the audit ref)
    slack_user_id TEXT NOT NULL,
    team_id TEXT,
    channel_id TEXT,
    message_ts TEXT,
    rating TEXT NOT NULL CHECK (rating IN ('good', 'bad')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS feedback_audit ON feedback (audit_id, created_at);

CREATE OR REPLACE FUNCTION feedback_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'feedback is append-only (% refused)', TG_OP;
END $$;

DROP TRIGGER IF EXISTS feedback_no_update_delete ON feedback;
CREATE TRIGGER feedback_no_update_delete
    BEFORE UPDATE OR DELETE ON feedback
    FOR EACH ROW EXECUTE FUNCTION feedback_append_only();

DROP TRIGGER IF EXISTS feedback_no_truncate ON feedback;
CREATE TRIGGER feedback_no_truncate
    BEFORE TRUNCATE ON feedback
    FOR EACH STATEMENT EXECUTE FUNCTION feedback_append_only();
