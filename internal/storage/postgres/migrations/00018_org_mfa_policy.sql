-- An organization may require a second factor of its people at sign-in:
-- '' none, 'elus' its élus, 'all' all its members.
ALTER TABLE organizations ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT '';
