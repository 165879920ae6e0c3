-- Slack user ↔ Keycloak subject links made by `/aiops login` (identity mode `device`).
-- The refresh token is stored only encrypted (AES-256-GCM, key derived from the
-- link_encryption_key secret, row bound to slack_user_id + subject as associated data).
CREATE TABLE IF NOT EXISTS identity_links (
    slack_user_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,              -- Keycloak `sub`
    refresh_token_enc BYTEA NOT NULL,   -- version byte || nonce || ciphertext+tag
    refresh_expires_at TIMESTAMPTZ,     -- NULL = Keycloak did not say
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS identity_links_subject ON identity_links (subject);
