-- Protocol options of applications, as one JSON document (see
-- storage.ClientSettings): new options need no schema change.
ALTER TABLE applications ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
