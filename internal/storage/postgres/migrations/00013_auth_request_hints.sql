-- ProConnect's hints on an authorization request: sp_name, the service
-- the person is signing into through the federation (shown on the login
-- page), and siret_hint, the SIRET of the organization to act for.
ALTER TABLE auth_requests ADD COLUMN sp_name TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN siret_hint TEXT NOT NULL DEFAULT '';
