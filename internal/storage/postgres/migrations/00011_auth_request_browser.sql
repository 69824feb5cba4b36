-- A pending authorization request is bound to the browser that started
-- it: the SHA-256 (hex) of that browser's binding cookie, and the address
-- it came from, so that one address opening thousands can be slowed.
ALTER TABLE auth_requests ADD COLUMN browser_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX auth_requests_source ON auth_requests (source, expires_at);
