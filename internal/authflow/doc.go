// Package authflow is TNO's sign-in engine, the one every protocol calls.
//
// A protocol front end (OpenID Connect today; the portal, SAML 2.0 and CAS
// next) starts a transaction with what its requester needs (Request: the
// application, prompt, max_age, the levels asked, hints) and registers a
// Frontend that receives the outcome: a Result (person, session,
// membership, amr, auth_time) or a Failure (login_required,
// unmet_authentication_requirements…, which the front end translates
// into its protocol's error).
//
// The transaction (storage.SignIn) is stored server-side, bound to the
// browser that started it, and records what has been proven so far: the
// identifier typed, the factors proven with their time, the membership
// chosen, the consent given. One function, next, decides the step that
// follows: identifier → password → second factor (or its enrolment when a
// policy requires it) → organization chooser → consent → done. Each page
// posts back to the engine, which updates the transaction and calls next
// again. Modelled on dex's server/authflow (a stored request, one
// next-step function).
//
// The identifier page never looks the identifier up: known and unknown
// identifiers take the same path and the same time, and the password
// page offers the same choices to everyone. Second factors are asked
// only once the password is proven.
//
// It imports storage, directory (and local's password policy), session,
// factor/totp, factor/passkey, throttle, mail, logout, audit and web;
// never oidc, server or another protocol package (the applications'
// eligibility rule comes in Options.Eligible).
package authflow
