-- Consents (see storage.Consent): what a person allowed an application
-- that is not first-party to receive, one row per person and application,
-- scopes as JSON text. They follow the application when its client ID
-- changes and go with the person or the application. Keep in step with
-- the PostgreSQL flavour.
CREATE TABLE consents (
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES applications (client_id) ON DELETE CASCADE ON UPDATE CASCADE,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, client_id)
) STRICT;
CREATE INDEX consents_client_id ON consents (client_id);
