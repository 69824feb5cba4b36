-- When a used authorization code was presented again (see
-- storage.AuthCodes.MarkAuthCodeReplayed).
ALTER TABLE auth_codes ADD COLUMN replayed_at BIGINT;
