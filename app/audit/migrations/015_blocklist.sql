-- Values blocked after a prompt-injection detection (threat model: "block the offending metric
-- label"), as digests only: a blocked value that held a secret never lands in a table. Kept beside
-- the audit log on purpose: the statement that writes a tool call's audit row checks this table
-- in the same snapshot, so a result is recorded, and released, only if none of its values was
-- blocked at that moment (tools/blocklist.py; docs/decisions.md 74).
CREATE TABLE IF NOT EXISTS blocked_values (
    prefix TEXT NOT NULL, -- AIOPS_REDIS_PREFIX: deployments sharing a database stay apart
    digest TEXT NOT NULL, -- blake2b-128 of the value, hex
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (prefix, digest)
);
