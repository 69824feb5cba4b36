-- Refresh-token rotation (see storage.Token): a refresh token is marked
-- used when exchanged, and a used one presented again revokes its whole
-- family, found through family_id. amr is repeated in refreshed ID tokens
-- (JSON text, like auth_codes.amr).
ALTER TABLE tokens ADD COLUMN used_at INTEGER;
ALTER TABLE tokens ADD COLUMN amr TEXT NOT NULL DEFAULT 'null';
CREATE INDEX tokens_family_id ON tokens (family_id) WHERE family_id <> '';
