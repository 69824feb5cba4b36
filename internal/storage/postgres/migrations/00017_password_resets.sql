-- « Mot de passe oublié » (internal/authflow): single-use links sent by
-- e-mail to people with a local password. Only the hex SHA-256 of the
-- link's random token is stored; used_at marks its one use. Keep in step
-- with the SQLite flavour.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_person_id ON password_resets (person_id);
CREATE INDEX password_resets_expires_at ON password_resets (expires_at);
