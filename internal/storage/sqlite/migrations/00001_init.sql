-- TNO schema, SQLite flavour. Keep in step with
-- internal/storage/postgres/migrations: same tables, columns, constraints
-- and indexes; only the types differ (STRICT tables: INTEGER for BIGINT
-- and BOOLEAN, BLOB for BYTEA).
--
-- Times are Unix microseconds (UTC). String lists are JSON text.
-- Composite foreign keys (id, org_id) keep every child row in its parent's
-- organization.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    siren      TEXT NOT NULL,
    siret      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE people (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    given_name     TEXT NOT NULL,
    family_name    TEXT NOT NULL,
    usual_name     TEXT NOT NULL,
    email          TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    phone          TEXT NOT NULL,
    disabled       INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE credentials (
    person_id     TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    service     TEXT NOT NULL,
    title       TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- Also serves lookups by person_id.
    UNIQUE (person_id, org_id, kind),
    UNIQUE (id, org_id)
) STRICT;
CREATE INDEX memberships_org_id ON memberships (org_id);

CREATE TABLE mandates (
    id            TEXT PRIMARY KEY,
    membership_id TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    function      TEXT NOT NULL,
    delegations   TEXT NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER,
    created_at    INTEGER NOT NULL,
    FOREIGN KEY (membership_id, org_id) REFERENCES memberships (id, org_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX mandates_membership ON mandates (membership_id, org_id);

CREATE TABLE org_groups (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, slug),
    UNIQUE (id, org_id)
) STRICT;

CREATE TABLE group_members (
    group_id      TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    -- org_id leads the key: adding a member through the wrong organization
    -- is then a new row, which the foreign keys refuse, not a conflict.
    PRIMARY KEY (org_id, group_id, membership_id),
    FOREIGN KEY (group_id, org_id) REFERENCES org_groups (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (membership_id, org_id) REFERENCES memberships (id, org_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX group_members_membership ON group_members (membership_id, org_id);

CREATE TABLE applications (
    id                        TEXT PRIMARY KEY,
    org_id                    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    client_id                 TEXT NOT NULL UNIQUE,
    name                      TEXT NOT NULL,
    client_type               TEXT NOT NULL,
    secret_hash               TEXT NOT NULL,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    scopes                    TEXT NOT NULL,
    allowed_kinds             TEXT NOT NULL,
    first_party               INTEGER NOT NULL,
    disabled                  INTEGER NOT NULL,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL
) STRICT;
CREATE INDEX applications_org_id ON applications (org_id);

CREATE TABLE app_grants (
    app_id   TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    org_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (app_id, org_id)
) STRICT;
CREATE INDEX app_grants_org_id ON app_grants (org_id);

CREATE TABLE admin_roles (
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    org_id     TEXT REFERENCES organizations (id) ON DELETE CASCADE, -- NULL: platform-wide
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX admin_roles_unique ON admin_roles (person_id, role, COALESCE(org_id, ''));
CREATE INDEX admin_roles_role ON admin_roles (role);

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_jwk BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    active_at   INTEGER NOT NULL,
    retired_at  INTEGER,
    expires_at  INTEGER
) STRICT;

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL,
    auth_time    INTEGER NOT NULL,
    amr          TEXT NOT NULL,
    acr          TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX sessions_person_id ON sessions (person_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    state                 TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    response_mode         TEXT NOT NULL,
    prompt                TEXT NOT NULL,
    max_age               INTEGER,
    login_hint            TEXT NOT NULL,
    claims                TEXT NOT NULL,
    acr_values            TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX auth_requests_expires_at ON auth_requests (expires_at);

CREATE TABLE auth_codes (
    hash                  TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    person_id             TEXT NOT NULL,
    membership_id         TEXT NOT NULL,
    session_id            TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    claims                TEXT NOT NULL,
    auth_time             INTEGER NOT NULL,
    amr                   TEXT NOT NULL,
    acr                   TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER
) STRICT;
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

CREATE TABLE tokens (
    hash          TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    scope         TEXT NOT NULL,
    code_hash     TEXT NOT NULL,
    family_id     TEXT NOT NULL,
    auth_time     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;
CREATE INDEX tokens_code_hash ON tokens (code_hash) WHERE code_hash <> '';
CREATE INDEX tokens_expires_at ON tokens (expires_at);
