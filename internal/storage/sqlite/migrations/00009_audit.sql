-- The append-only audit log: internal/audit chains each event to the
-- previous one by hash; seq has no gaps.
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    type       TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    session_id TEXT NOT NULL,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_person ON audit_events (person_id);
CREATE INDEX audit_events_at ON audit_events (at);
