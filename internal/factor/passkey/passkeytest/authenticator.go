// Package passkeytest is a software passkey authenticator, with the part
// of a browser that serializes its answers, for tests: of package passkey
// and of the HTTP handlers built on it. Given the JSON options a server
// produced for navigator.credentials.create or get, it returns exactly the
// PublicKeyCredential JSON a browser would post (PublicKeyCredential's
// toJSON: id, rawId, type, response with base64url clientDataJSON,
// attestationObject or authenticatorData and signature, userHandle).
//
// It creates ES256 credentials (crypto/ecdsa, P-256), self-attested with
// the "none" attestation format, CBOR-encoded with fxamacker/cbor in CTAP2
// canonical form. The exported fields make it misbehave on purpose (wrong
// origin, wrong RP ID, no user verification, synced keys) so that tests
// can check the server refuses what a broken or hostile client sends: it
// honours excludeCredentials and the algorithm list, but not the user
// verification requirement.
//
// It is for tests only and may import the standard library and
// github.com/fxamacker/cbor/v2; nothing from the module.
package passkeytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Errors of Create and Get, named after the DOMException a browser raises.
var (
	// ErrExcluded: one of the authenticator's credentials is in
	// excludeCredentials (InvalidStateError).
	ErrExcluded = errors.New("passkeytest: authenticator already registered (InvalidStateError)")
	// ErrNotSupported: no offered algorithm is ES256 (NotSupportedError).
	ErrNotSupported = errors.New("passkeytest: no supported algorithm (NotSupportedError)")
	// ErrNoCredential: no credential matches the request (NotAllowedError).
	ErrNoCredential = errors.New("passkeytest: no matching credential (NotAllowedError)")
	// ErrOptions: the options are not valid JSON options.
	ErrOptions = errors.New("passkeytest: invalid options")
)

// algES256 is the COSE algorithm identifier of ECDSA with P-256 and SHA-256.
const algES256 = -7

// Authenticator flags (WebAuthn §6.1).
const (
	flagUP = 1 << 0
	flagUV = 1 << 2
	flagBE = 1 << 3
	flagBS = 1 << 4
	flagAT = 1 << 6
)

// Authenticator is a platform authenticator in a browser. Set the fields
// before use or between ceremonies; its methods are safe for concurrent
// use, but changing fields during a call is not.
type Authenticator struct {
	// Origin is the origin the browser reports in clientDataJSON.
	Origin string
	// RPID, when set, is hashed into the authenticator data instead of
	// the RP ID of the options (or the origin's host): what a credential
	// scoped to another site would carry.
	RPID string
	// AAGUID identifies the authenticator model; zero by default, as for
	// most passkey providers with attestation "none".
	AAGUID [16]byte
	// Synced makes credentials created from now on backup eligible and
	// backed up, with a signature counter that stays 0, as iCloud
	// Keychain or Google Password Manager do. Otherwise credentials are
	// device-bound and count each signature.
	Synced bool
	// NoUserVerification leaves the UV flag clear: an authenticator with
	// no PIN or biometrics, or a client that skipped them.
	NoUserVerification bool
	// Transports are reported at registration; ["internal"] when nil.
	Transports []string

	mu    sync.Mutex
	creds []*credential
}

// credential is one key pair the authenticator holds.
type credential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	rpID       string
	userHandle []byte
	counter    uint32
	synced     bool
}

// New returns an authenticator in a browser at origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

// Clone returns a copy holding the same private keys and counters, as an
// attacker who extracted them would: the copy and the original each count
// on from here, so the server sees one of them go backwards.
func (a *Authenticator) Clone() *Authenticator {
	a.mu.Lock()
	defer a.mu.Unlock()
	b := &Authenticator{
		Origin:             a.Origin,
		RPID:               a.RPID,
		AAGUID:             a.AAGUID,
		Synced:             a.Synced,
		NoUserVerification: a.NoUserVerification,
		Transports:         slices.Clone(a.Transports),
	}
	for _, c := range a.creds {
		cc := *c
		b.creds = append(b.creds, &cc)
	}
	return b
}

// Credential describes a credential the authenticator holds.
type Credential struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	SignCount  uint32
}

// Credentials lists the credentials held, oldest first.
func (a *Authenticator) Credentials() []Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Credential, len(a.creds))
	for i, c := range a.creds {
		out[i] = Credential{ID: bytes.Clone(c.id), RPID: c.rpID, UserHandle: bytes.Clone(c.userHandle), SignCount: c.counter}
	}
	return out
}

// b64 is base64url without padding, as WebAuthn's JSON uses.
type b64 []byte

func (b b64) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.RawURLEncoding.EncodeToString(b))
}

func (b *b64) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	d, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return err
	}
	*b = d
	return nil
}

type param struct {
	Type string `json:"type"`
	Alg  int    `json:"alg"`
}

type descriptor struct {
	Type string `json:"type"`
	ID   b64    `json:"id"`
}

// creationOptions is the part of CredentialCreationOptions JSON used.
type creationOptions struct {
	PublicKey struct {
		RP struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID b64 `json:"id"`
		} `json:"user"`
		Challenge b64          `json:"challenge"`
		Params    []param      `json:"pubKeyCredParams"`
		Exclude   []descriptor `json:"excludeCredentials"`
	} `json:"publicKey"`
}

// requestOptions is the part of CredentialRequestOptions JSON used.
type requestOptions struct {
	PublicKey struct {
		Challenge b64          `json:"challenge"`
		RPID      string       `json:"rpId"`
		Allow     []descriptor `json:"allowCredentials"`
	} `json:"publicKey"`
}

type clientData struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
}

type attestationResponse struct {
	ClientDataJSON     b64      `json:"clientDataJSON"`
	AttestationObject  b64      `json:"attestationObject"`
	AuthenticatorData  b64      `json:"authenticatorData"`
	PublicKey          b64      `json:"publicKey"`
	PublicKeyAlgorithm int      `json:"publicKeyAlgorithm"`
	Transports         []string `json:"transports"`
}

type assertionResponse struct {
	ClientDataJSON    b64 `json:"clientDataJSON"`
	AuthenticatorData b64 `json:"authenticatorData"`
	Signature         b64 `json:"signature"`
	UserHandle        b64 `json:"userHandle,omitempty"`
}

type publicKeyCredential struct {
	ID                      string         `json:"id"`
	RawID                   b64            `json:"rawId"`
	Type                    string         `json:"type"`
	AuthenticatorAttachment string         `json:"authenticatorAttachment"`
	Response                any            `json:"response"`
	ClientExtensionResults  map[string]any `json:"clientExtensionResults"`
}

// Create answers navigator.credentials.create: options is the JSON the
// server produced ({"publicKey": {...}}), the result the JSON the browser
// posts back. The new credential is discoverable.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	pk := o.PublicKey
	if len(pk.Challenge) == 0 || len(pk.User.ID) == 0 {
		return nil, fmt.Errorf("%w: no challenge or user ID", ErrOptions)
	}
	if !slices.ContainsFunc(pk.Params, func(p param) bool { return p.Type == "public-key" && p.Alg == algES256 }) {
		return nil, ErrNotSupported
	}
	rpID, err := a.rpID(pk.RP.ID)
	if err != nil {
		return nil, err
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.creds {
		if c.rpID == rpID && slices.ContainsFunc(pk.Exclude, func(d descriptor) bool { return bytes.Equal(d.ID, c.id) }) {
			return nil, ErrExcluded
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &credential{id: make([]byte, 32), key: key, rpID: rpID, userHandle: bytes.Clone(pk.User.ID), synced: a.Synced}
	if _, err := rand.Read(c.id); err != nil {
		return nil, err
	}
	coseKey, err := cosePublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}

	authData := a.authData(c, flagAT)
	authData = append(authData, a.AAGUID[:]...)
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(c.id)))
	authData = append(authData, c.id...)
	authData = append(authData, coseKey...)
	attObj, err := ctap2().Marshal(map[string]any{
		"fmt":      "none",
		"attStmt":  map[string]any{},
		"authData": authData,
	})
	if err != nil {
		return nil, err
	}
	cdj, err := a.clientDataJSON("webauthn.create", pk.Challenge)
	if err != nil {
		return nil, err
	}
	transports := a.Transports
	if transports == nil {
		transports = []string{"internal"}
	}
	a.creds = append(a.creds, c)
	return json.Marshal(publicKeyCredential{
		ID:                      base64.RawURLEncoding.EncodeToString(c.id),
		RawID:                   c.id,
		Type:                    "public-key",
		AuthenticatorAttachment: "platform",
		Response: attestationResponse{
			ClientDataJSON:     cdj,
			AttestationObject:  attObj,
			AuthenticatorData:  authData,
			PublicKey:          spki,
			PublicKeyAlgorithm: algES256,
			Transports:         transports,
		},
		ClientExtensionResults: map[string]any{},
	})
}

// Get answers navigator.credentials.get: with allowCredentials, it signs
// with the oldest of its credentials listed; without, with its newest
// credential for the RP ID (discoverable login). Device-bound credentials
// increment their counter.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	pk := o.PublicKey
	if len(pk.Challenge) == 0 {
		return nil, fmt.Errorf("%w: no challenge", ErrOptions)
	}
	rpID, err := a.rpID(pk.RPID)
	if err != nil {
		return nil, err
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	var c *credential
	for i := len(a.creds) - 1; i >= 0; i-- {
		cand := a.creds[i]
		if cand.rpID != rpID {
			continue
		}
		if len(pk.Allow) == 0 || slices.ContainsFunc(pk.Allow, func(d descriptor) bool { return bytes.Equal(d.ID, cand.id) }) {
			c = cand
			if len(pk.Allow) == 0 {
				break
			}
		}
	}
	if c == nil {
		return nil, ErrNoCredential
	}
	if !c.synced {
		c.counter++
	}
	authData := a.authData(c, 0)
	cdj, err := a.clientDataJSON("webauthn.get", pk.Challenge)
	if err != nil {
		return nil, err
	}
	cdh := sha256.Sum256(cdj)
	digest := sha256.Sum256(slices.Concat(authData, cdh[:]))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(publicKeyCredential{
		ID:                      base64.RawURLEncoding.EncodeToString(c.id),
		RawID:                   c.id,
		Type:                    "public-key",
		AuthenticatorAttachment: "platform",
		Response: assertionResponse{
			ClientDataJSON:    cdj,
			AuthenticatorData: authData,
			Signature:         sig,
			UserHandle:        c.userHandle,
		},
		ClientExtensionResults: map[string]any{},
	})
}

// rpID returns the RP ID a ceremony is scoped to: the options' or, as
// browsers do by default, the origin's host.
func (a *Authenticator) rpID(fromOptions string) (string, error) {
	if fromOptions != "" {
		return fromOptions, nil
	}
	u, err := url.Parse(a.Origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("%w: no RP ID and origin %q has no host", ErrOptions, a.Origin)
	}
	return u.Hostname(), nil
}

// authData returns the 37 first bytes of authenticator data for c: RP ID
// hash, flags (extra, plus UP, UV, BE and BS as configured), counter.
func (a *Authenticator) authData(c *credential, extra byte) []byte {
	rp := c.rpID
	if a.RPID != "" {
		rp = a.RPID
	}
	h := sha256.Sum256([]byte(rp))
	flags := extra | flagUP
	if !a.NoUserVerification {
		flags |= flagUV
	}
	if c.synced {
		flags |= flagBE | flagBS
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, c.counter)
}

func (a *Authenticator) clientDataJSON(typ string, challenge []byte) ([]byte, error) {
	return json.Marshal(clientData{
		Type:      typ,
		Challenge: base64.RawURLEncoding.EncodeToString(challenge),
		Origin:    a.Origin,
	})
}

// cosePublicKey encodes an ES256 public key as a COSE_Key (RFC 9053):
// kty EC2, alg ES256, crv P-256, x, y.
func cosePublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	p, err := pub.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	return ctap2().Marshal(map[int]any{
		1:  2,        // kty: EC2
		3:  algES256, // alg
		-1: 1,        // crv: P-256
		-2: p[1:33],  // x
		-3: p[33:65], // y
	})
}

// ctap2 is CBOR in CTAP2 canonical form, as authenticators encode it.
func ctap2() cbor.EncMode {
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err) // fixed options: cannot fail
	}
	return em
}
