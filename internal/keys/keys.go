// Package keys owns TNO's signing keys: creation, storage, the signer used
// for ID tokens (and later logout tokens, signed userinfo), rotation and
// the public JWKS. It imports storage and go-jose only.
package keys
