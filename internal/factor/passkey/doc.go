// Package passkey owns TNO's WebAuthn factor: passkeys used as a second
// factor for a known person, and discoverable passkeys for passwordless
// sign-in (conditional UI). It is a thin layer over
// github.com/go-webauthn/webauthn, which does every protocol check
// (challenge, origin, RP ID hash, flags, COSE key, attestation,
// signature); this package chooses the policy (resident key and user
// verification required at registration, attestation "none", ES256,
// EdDSA and RS256), enforces the ceremony timeout with an injected clock,
// refuses cloned authenticators, and maps the library's errors onto a few
// typed errors.
//
// It is pure logic: no HTTP, no storage, no logging, no global state. Each
// ceremony is two calls. Begin returns the options for the browser (JSON
// for navigator.credentials.create or get) and an opaque state that the
// caller keeps server-side, bound to the sign-in transaction, and uses
// once; Finish takes that state and the PublicKeyCredential JSON the
// browser posted. The caller stores a registered Credential with
// Credential.Marshal as an opaque blob, and stores it again after each
// login, since the sign count and backup state change.
//
// Tests and other packages' tests drive it with the software
// authenticator of package passkeytest.
//
// It may import the standard library and github.com/go-webauthn/webauthn
// only; nothing from the module. The library's types never leave it.
package passkey
