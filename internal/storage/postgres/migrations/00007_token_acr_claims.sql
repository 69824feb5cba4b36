-- The authentication level and the claims request of a sign-in travel
-- with its tokens (see storage.Token): refreshed ID tokens repeat the
-- acr, and userinfo releases acr and amr when the authorization request
-- asked for them in its claims parameter (OpenID Connect Core 5.5).
-- Tokens issued before keep '' (acr then follows from amr).
ALTER TABLE tokens ADD COLUMN acr TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN claims TEXT NOT NULL DEFAULT '';
