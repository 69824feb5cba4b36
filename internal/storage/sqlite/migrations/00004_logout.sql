-- Single logout (OpenID Connect Front-Channel and Back-Channel Logout):
-- the applications each session signed into, and the durable queue of
-- back-channel logout tokens. Keep in step with the PostgreSQL flavour.

CREATE TABLE session_clients (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    sid        TEXT NOT NULL,
    subject    TEXT NOT NULL,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, client_id)
) STRICT;

-- A delivery is pending while delivered_at and failed_at are NULL. A
-- sender claims it by moving claimed_until (its lease) past now, with a
-- conditional UPDATE: of concurrent senders, one wins.
CREATE TABLE logout_deliveries (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    uri             TEXT NOT NULL,
    token           TEXT NOT NULL,
    subject         TEXT NOT NULL,
    sid             TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    failed_at       INTEGER,
    last_error      TEXT NOT NULL
) STRICT;
CREATE INDEX logout_deliveries_due ON logout_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX logout_deliveries_client ON logout_deliveries (client_id, created_at);
