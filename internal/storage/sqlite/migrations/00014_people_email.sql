-- People sign in with their e-mail address too (ProConnect sends it as
-- login_hint): looked up ignoring case.
CREATE INDEX people_email_lower ON people (lower(email));
