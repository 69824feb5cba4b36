-- An administrator's invitation is a one-time link like a password reset,
-- with a longer life, that also works for a person without a password:
-- purpose '' is a reset, 'invitation' an invitation.
ALTER TABLE password_resets ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
