-- Administration roles of applications (issue 12): an application acting
-- for itself through the REST API (client_credentials access tokens)
-- holds an organization's role, org_admin or org_helpdesk, never the
-- platform's. Removing the application or the organization removes its
-- roles: a client_id given again later does not inherit them.
CREATE TABLE client_roles (
    app_id     TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('org_admin', 'org_helpdesk')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, org_id, role)
) STRICT;
CREATE INDEX client_roles_org ON client_roles (org_id);
