-- Key rotation (docs/secrets.md): when a stored access token does not open for its row (its ciphertext was
-- moved from another row, or altered), sync marks the row instead of using it; an operator reads the count
-- in /metrics (mingus_sync_tokens_unreadable) and GET /api/admin/keys. A re-seal of the row clears it.
ALTER TABLE connections ADD COLUMN token_unreadable_at TIMESTAMPTZ;
