-- Reads of the audit trail (REST API, Web UI, `aiops audit`): by person, by session, newest first.
CREATE INDEX IF NOT EXISTS audit_events_user_ts ON audit_events (user_id, timestamp DESC);
CREATE INDEX IF NOT EXISTS audit_events_session_ts ON audit_events (session_id, timestamp);
CREATE INDEX IF NOT EXISTS conversations_user ON conversations (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS conversations_audit ON conversations (audit_id);
