-- 90-day audit retention (issue 10): the append-only trigger admits exactly one DELETE path —
-- the `audit_archiver` role, rows older than 90 days. Everything else (UPDATE, TRUNCATE, any other
-- role's DELETE) is still refused. Which days may go (exported and verified) is checked by
-- `aiops audit prune`; the database enforces what it can know by itself.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' AND current_user = 'audit_archiver'
       AND OLD.timestamp < now() - interval '90 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END $$;

-- Exports written by `aiops audit export` (one per UTC day) and the outcome of each
-- `aiops audit verify` run: what the metrics, the API and prune read.
CREATE TABLE IF NOT EXISTS audit_exports (
    day DATE PRIMARY KEY,
    object_key TEXT NOT NULL,
    object_version_id TEXT,
    object_sha256 TEXT NOT NULL,
    digest_key TEXT NOT NULL,
    digest_version_id TEXT,
    digest_sha256 TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    exported_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS audit_verify_runs (
    id BIGSERIAL PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    finished_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    from_day DATE,
    to_day DATE,
    ok BOOLEAN NOT NULL,
    days_checked INTEGER NOT NULL,
    last_verified_day DATE,          -- newest day whose export verified in this run
    problems JSONB NOT NULL          -- [{day, kind, detail}]
);
CREATE INDEX IF NOT EXISTS audit_verify_runs_finished ON audit_verify_runs (finished_at);

-- Last success of each nightly task (audit_export, audit_verify, audit_prune, retention): short
-- Jobs cannot be scraped, so they record it here and the long-running processes export
-- aiops_task_last_success_timestamp_seconds{task} from it.
CREATE TABLE IF NOT EXISTS task_runs (
    task TEXT PRIMARY KEY,
    last_success TIMESTAMPTZ NOT NULL
);
