-- must_change: the person must choose a new password at their next
-- sign-in (the first administrator's generated one, a temporary password
-- set by an administrator).
ALTER TABLE credentials ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
