-- The sign-in engine (internal/authflow).
--
-- sign_ins: pending sign-in transactions, protocol-neutral. A protocol
-- front end (OpenID Connect now; the portal, SAML and CAS later) starts
-- one; data is the engine's state (what the requester needs, what has
-- been proven, the membership chosen), JSON that only the engine reads.
CREATE TABLE sign_ins (
    id           TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    source       TEXT NOT NULL,
    protocol     TEXT NOT NULL,
    protocol_ref TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sign_ins_expires_at ON sign_ins (expires_at);

-- factors: what a person can prove besides a password. kind is totp,
-- passkey or recovery (one row per single-use recovery code). secret is
-- the TOTP key (base32) or a recovery code's salted hash; credential_id
-- (base64url) identifies a passkey, data is its stored credential (JSON);
-- last_step is the last TOTP time step accepted (replay guard).
CREATE TABLE factors (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret        TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    data          TEXT NOT NULL,
    last_step     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX factors_person_id ON factors (person_id, kind);
CREATE UNIQUE INDEX factors_credential_id ON factors (credential_id) WHERE credential_id <> '';

-- A session's cookie secret changes at every step-up (no fixation) while
-- its ID, which tokens and the applications' logout channel name, stays.
-- Sessions created before this migration keep the hash of their secret
-- as their ID.
ALTER TABLE sessions ADD COLUMN cookie_hash TEXT NOT NULL DEFAULT '';
UPDATE sessions SET cookie_hash = id;
CREATE UNIQUE INDEX sessions_cookie_hash ON sessions (cookie_hash);
