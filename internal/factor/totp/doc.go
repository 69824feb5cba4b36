// Package totp owns the logic of the authenticator-app second factor and of
// its recovery codes: secret generation, the otpauth:// enrolment URI and
// its QR code, verification of a six-digit code with a replay guard, and
// generation, hashing and matching of single-use recovery codes.
//
// It is pure logic: no HTTP, no storage, no logging, no global state. The
// clock is a parameter (now time.Time) and so is the last accepted time
// step; callers persist the secret (Secret.Base32), the step Verify returns
// and the recovery-code hashes, and delete a recovery-code hash once used.
//
// Codes follow RFC 6238 with the parameters every authenticator app
// supports: HMAC-SHA-1, 6 digits, a 30-second period.
//
// It may import the standard library, github.com/pquerna/otp (HOTP
// computation and the otpauth URI) and github.com/boombuler/barcode (the QR
// matrix) only; nothing from the module.
package totp
