-- What the portal shows of an application (JSON: description, category,
-- launch URL), and its icon, uploaded by an administrator and served by
-- TNO (a PNG, at most 256 KiB, checked before it is stored).
ALTER TABLE applications ADD COLUMN tile TEXT NOT NULL DEFAULT '{}';
CREATE TABLE app_icons (
    app_id       TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    data         BYTEA NOT NULL,
    sha256       TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
