-- The seed's audit table, exactly.

CREATE TABLE IF NOT EXISTS audit_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    event_type TEXT NOT NULL, -- 'query', 'tool_call', 'recommendation', 'auth_failure'
    user_id TEXT NOT NULL,
    session_id TEXT,
    timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    agent_version TEXT NOT NULL, -- git SHA of agent config
    -- Query events
    user_message TEXT,
    tool_calls JSONB, -- array of {tool, inputs_hash, result_hash}
    response_hash TEXT, -- SHA-256 of full response text
    -- Auth / security events
    namespace TEXT,
    ip_address INET,
    failure_reason TEXT,
    -- Metadata
    latency_ms INTEGER,
    token_count INTEGER
);

CREATE INDEX IF NOT EXISTS audit_events_ts ON audit_events (timestamp);
CREATE INDEX IF NOT EXISTS audit_events_type_ts ON audit_events (event_type, timestamp);

-- Append-only: rows are never updated or deleted. Row triggers do not fire on TRUNCATE,
-- hence the separate statement trigger.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END $$;

DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events;
CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
