package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/territoires-ouverts/tno/internal/apps"
)

const clientJWKSHelp = `
Prints, on standard output, the JWK Set to register with
tno app create|update --jwks-file for an application signing its client
assertions (private_key_jwt) with the key pair of FILE. FILE ("-" for
standard input) holds, in PEM, the public key (BEGIN PUBLIC KEY), a
certificate (BEGIN CERTIFICATE), or the private key itself (BEGIN PRIVATE
KEY, EC PRIVATE KEY, RSA PRIVATE KEY): only its public part is printed, and
the private key stays with the application. The first key of FILE is used.

--kid defaults to the key's RFC 7638 thumbprint (SHA-256, base64url): the
application puts the same kid in its assertions' header. --alg defaults to
RS256 for an RSA key and to ES256 (P-256) or ES384 (P-384) for an EC key;
the application must sign with that algorithm.

For example:
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out app.key
  openssl pkey -in app.key -pubout -out app.pub.pem
  tno keys client-jwks --public-key app.pub.pem > app-jwks.json`

// assertionAlgKey is an algorithm and the key it needs.
type assertionAlgKey struct {
	alg   jose.SignatureAlgorithm
	curve elliptic.Curve // nil: RSA
}

// clientAssertionAlgs are the algorithms TNO accepts on a client
// assertion (internal/oidc's assertionAlgs).
var clientAssertionAlgs = []assertionAlgKey{
	{jose.RS256, nil}, {jose.RS384, nil}, {jose.RS512, nil}, {jose.PS256, nil},
	{jose.ES256, elliptic.P256()}, {jose.ES384, elliptic.P384()},
}

func keysClientJWKS(_ context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var file, kid, alg string
	synopsis := "--public-key FILE.pem [--kid KID] [--alg RS256|RS384|RS512|PS256|ES256|ES384]"
	fs := newFlagSet(env, "keys client-jwks", synopsis, &cf)
	fs.StringVar(&file, "public-key", "", `PEM file of the application's public key, certificate or private key ("-": standard input) (required)`)
	fs.StringVar(&kid, "kid", "", "key ID (default the key's RFC 7638 thumbprint)")
	fs.StringVar(&alg, "alg", "", "algorithm the application signs with (default RS256 for RSA, ES256 or ES384 by the EC curve)")
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: tno keys client-jwks %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprintln(env.stderr, clientJWKSHelp)
	}
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "public-key"); err != nil {
		return err
	}
	var data []byte
	var err error
	if file == "-" {
		if env.stdin == nil {
			return errors.New("--public-key -: no standard input")
		}
		data, err = io.ReadAll(io.LimitReader(env.stdin, maxPEMLen+1))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("--public-key: %w", err)
	}
	set, fromPrivate, err := clientJWKS(data, kid, jose.SignatureAlgorithm(alg))
	if err != nil {
		return fmt.Errorf("--public-key %s: %w", file, err)
	}
	if err := writeJSON(env.stdout, set); err != nil {
		return err
	}
	if fromPrivate {
		fmt.Fprintf(env.stderr, "%s holds a private key: only its public part was printed. Keep the private key with the application, never in TNO.\n", file)
	}
	return nil
}

// maxPEMLen bounds the file read: a certificate chain is a few KiB.
const maxPEMLen = 1 << 20

// clientJWKS returns the JWK Set of the first public key in pemData,
// checked as tno app --jwks-file checks it, and whether it was taken from
// a private key. alg "" picks the key type's default.
func clientJWKS(pemData []byte, kid string, alg jose.SignatureAlgorithm) (set jose.JSONWebKeySet, fromPrivate bool, err error) {
	if len(pemData) > maxPEMLen {
		return set, false, fmt.Errorf("larger than %d KiB: not a PEM key", maxPEMLen>>10)
	}
	pub, fromPrivate, err := publicKeyFromPEM(pemData)
	if err != nil {
		return set, false, err
	}
	alg, err = assertionAlg(pub, alg)
	if err != nil {
		return set, false, err
	}
	jwk := jose.JSONWebKey{Key: pub, Algorithm: string(alg), Use: "sig"}
	if !jwk.Valid() || !jwk.IsPublic() {
		return set, false, errors.New("not a valid public key")
	}
	if kid == "" {
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			return set, false, fmt.Errorf("thumbprint: %w", err)
		}
		kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	jwk.KeyID = kid
	set = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}}
	// What tno app --jwks-file refuses (a short RSA key…), refuse now.
	raw, err := jwk.MarshalJSON()
	if err != nil {
		return jose.JSONWebKeySet{}, false, err
	}
	if _, err := apps.ParseJWKS(`{"keys":[` + string(raw) + `]}`); err != nil {
		return jose.JSONWebKeySet{}, false, fmt.Errorf("tno app --jwks-file would refuse it: %w", err)
	}
	return set, fromPrivate, nil
}

// publicKeyFromPEM returns the public key of the first key-bearing PEM
// block of data, and whether that block was a private key.
func publicKeyFromPEM(data []byte) (crypto.PublicKey, bool, error) {
	const want = "want a PEM public key (BEGIN PUBLIC KEY), certificate (BEGIN CERTIFICATE) or private key"
	seen := false
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		seen = true
		var key any
		var err error
		private := false
		switch b.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(b.Bytes); err == nil {
				key = c.PublicKey
			}
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
			private = true
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
			private = true
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
			private = true
		case "ENCRYPTED PRIVATE KEY":
			return nil, false, errors.New("an encrypted private key: give its public key instead (openssl pkey -in KEY -pubout -out KEY.pub.pem)")
		default: // EC PARAMETERS before an EC PRIVATE KEY, and the like
			continue
		}
		if err != nil {
			// Not err itself: x509 may quote the key's bytes.
			return nil, false, fmt.Errorf("the %s block cannot be read: %s", b.Type, want)
		}
		if s, ok := key.(crypto.Signer); ok && private {
			return s.Public(), true, nil
		}
		if private {
			return nil, false, fmt.Errorf("unsupported private key type %T", key)
		}
		return key, false, nil
	}
	if seen {
		return nil, false, errors.New("no key or certificate among its PEM blocks: " + want)
	}
	return nil, false, errors.New("not PEM: " + want)
}

// assertionAlg checks alg (or picks the default when "") for a client
// assertion signed by the private part of pub.
func assertionAlg(pub crypto.PublicKey, alg jose.SignatureAlgorithm) (jose.SignatureAlgorithm, error) {
	var curve elliptic.Curve
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg == "" {
			return jose.RS256, nil
		}
	case *ecdsa.PublicKey:
		curve = k.Curve
		if alg == "" {
			for _, a := range clientAssertionAlgs {
				if a.curve == curve {
					return a.alg, nil
				}
			}
			return "", fmt.Errorf("an EC key on %s: TNO accepts client assertions signed on P-256 (ES256) or P-384 (ES384)", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		return "", errors.New("an Ed25519 key: TNO does not accept EdDSA client assertions; use an EC P-256 key or an RSA key")
	default:
		return "", fmt.Errorf("unsupported key type %T: use an EC P-256 key or an RSA key", pub)
	}
	var fit []string
	for _, a := range clientAssertionAlgs {
		if a.curve == curve {
			if a.alg == alg {
				return alg, nil
			}
			fit = append(fit, string(a.alg))
		}
	}
	if !slices.ContainsFunc(clientAssertionAlgs, func(a assertionAlgKey) bool { return a.alg == alg }) {
		return "", fmt.Errorf("--alg %q: TNO accepts client assertions signed with %s", alg, algNames())
	}
	return "", fmt.Errorf("--alg %s does not fit this key: use %s", alg, strings.Join(fit, ", "))
}

func algNames() string {
	names := make([]string, len(clientAssertionAlgs))
	for i, a := range clientAssertionAlgs {
		names[i] = string(a.alg)
	}
	return strings.Join(names, ", ")
}
