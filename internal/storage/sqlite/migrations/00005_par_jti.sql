-- Pushed authorization requests (RFC 9126) and the client assertions
-- already used (private_key_jwt, RFC 7523: each jti once per client until
-- the assertion expires). See storage.ClientRequests. Keep in step with
-- the PostgreSQL flavour.

-- id is the hex SHA-256 of the request_uri's random part; params holds
-- the authorization request parameters, form-encoded.
CREATE TABLE pushed_requests (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    params     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);

CREATE TABLE client_assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT;
CREATE INDEX client_assertion_jtis_expires_at ON client_assertion_jtis (expires_at);
