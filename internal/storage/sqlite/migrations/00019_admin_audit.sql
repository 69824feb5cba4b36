-- Administration (issue 12). Audit events say who acted (a person, an
-- application, the CLI, the system, an identity source), from which
-- address, on what, and the record before and after the change (JSON,
-- secrets excluded).
ALTER TABLE audit_events ADD COLUMN actor_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN before_doc TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN after_doc TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_org ON audit_events (org_id, seq);

-- The head of the hash chain: one row, locked by each append until its
-- transaction ends, so that concurrent writers (several instances) take
-- turns instead of racing for the next sequence number.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1,
    COALESCE((SELECT MAX(seq) FROM audit_events), 0),
    COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), ''));

-- An application manager's role names one application.
ALTER TABLE admin_roles ADD COLUMN app_id TEXT REFERENCES applications (id) ON DELETE CASCADE;
DROP INDEX admin_roles_unique;
CREATE UNIQUE INDEX admin_roles_unique ON admin_roles (person_id, role, COALESCE(org_id, ''), COALESCE(app_id, ''));
CREATE INDEX admin_roles_org ON admin_roles (org_id);

-- Versions: each update adds one, so that an edit made from an outdated
-- copy (a console form, an API If-Match) is detected.
ALTER TABLE organizations ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE people ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE memberships ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE applications ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
