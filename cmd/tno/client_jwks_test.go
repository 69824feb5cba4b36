package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/territoires-ouverts/tno/internal/apps"
)

// runClientJWKS runs tno keys client-jwks args with stdin.
func runClientJWKS(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, environ: testEnviron}
	code := run(context.Background(), append([]string{"keys", "client-jwks"}, args...), env)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pkixDER(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pkcs8(t *testing.T, priv crypto.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// parseSet parses tno's output with go-jose and returns its one key.
func parseSet(t *testing.T, out string) jose.JSONWebKey {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(out), &set); err != nil {
		t.Fatalf("output is not a JWK Set: %v\n%s", err, out)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1:\n%s", len(set.Keys), out)
	}
	return set.Keys[0]
}

// noPrivateMembers fails if out has a JWK member of a private key.
func noPrivateMembers(t *testing.T, out string) {
	t.Helper()
	var doc struct{ Keys []map[string]any }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range doc.Keys {
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[m]; ok {
				t.Errorf("output has private member %q:\n%s", m, out)
			}
		}
	}
}

func thumbprint(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	k := jose.JSONWebKey{Key: pub}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// verifies reports whether a JWS signed with priv as alg and kid is
// verified by the key of jwk.
func verifies(t *testing.T, jwk jose.JSONWebKey, priv crypto.Signer, alg jose.SignatureAlgorithm, kid string) bool {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"iss":"paie"}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Signatures[0].Header.KeyID != jwk.KeyID {
		return false
	}
	_, err = parsed.Verify(jwk)
	return err == nil
}

func TestClientJWKS(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "paie"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p256.PublicKey, p256)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name        string
		typ         string
		der         []byte
		priv        crypto.Signer
		flags       []string
		wantAlg     jose.SignatureAlgorithm
		wantKID     string // "" the thumbprint
		fromPrivate bool
	}{
		{"RSA public key", "PUBLIC KEY", pkixDER(t, &rsaKey.PublicKey), rsaKey, nil, jose.RS256, "", false},
		{"RSA PKCS #1 public key, PS256", "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey), rsaKey, []string{"--alg", "PS256"}, jose.PS256, "", false},
		{"EC P-256 public key", "PUBLIC KEY", pkixDER(t, &p256.PublicKey), p256, nil, jose.ES256, "", false},
		{"EC P-384 public key, kid", "PUBLIC KEY", pkixDER(t, &p384.PublicKey), p384, []string{"--kid", "paie-2026"}, jose.ES384, "paie-2026", false},
		{"certificate", "CERTIFICATE", cert, p256, nil, jose.ES256, "", false},
		{"PKCS #8 RSA private key", "PRIVATE KEY", pkcs8(t, rsaKey), rsaKey, []string{"--alg", "RS512"}, jose.RS512, "", true},
		{"PKCS #8 EC private key", "PRIVATE KEY", pkcs8(t, p256), p256, nil, jose.ES256, "", true},
		{"SEC 1 EC private key", "EC PRIVATE KEY", ecDER, p256, nil, jose.ES256, "", true},
		{"PKCS #1 RSA private key", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), rsaKey, nil, jose.RS256, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runClientJWKS(t, "", append([]string{"--public-key", writePEM(t, tt.typ, tt.der)}, tt.flags...)...)
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s", r.code, r.stderr)
			}
			noPrivateMembers(t, r.stdout)
			k := parseSet(t, r.stdout)
			if !k.IsPublic() {
				t.Fatalf("key is not public: %T", k.Key)
			}
			pub := tt.priv.Public()
			if eq, ok := k.Key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
				t.Errorf("key %T differs from the public key", k.Key)
			}
			wantKID := tt.wantKID
			if wantKID == "" {
				wantKID = thumbprint(t, pub)
			}
			if k.KeyID != wantKID || k.Algorithm != string(tt.wantAlg) || k.Use != "sig" {
				t.Errorf("kid %q alg %q use %q, want %q %q sig", k.KeyID, k.Algorithm, k.Use, wantKID, tt.wantAlg)
			}
			if !verifies(t, k, tt.priv, tt.wantAlg, wantKID) {
				t.Errorf("a signature by the private key does not verify with the printed key")
			}
			if _, err := apps.ParseJWKS(r.stdout); err != nil {
				t.Errorf("tno app --jwks-file would refuse it: %v", err)
			}
			if said := strings.Contains(r.stderr, "private key"); said != tt.fromPrivate {
				t.Errorf("stderr mentions a private key: %v, want %v:\n%s", said, tt.fromPrivate, r.stderr)
			}
		})
	}

	t.Run("standard input, several blocks", func(t *testing.T) {
		in := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
			string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}))
		r := runClientJWKS(t, in, "--public-key", "-")
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		noPrivateMembers(t, r.stdout)
		if k := parseSet(t, r.stdout); !k.Key.(*ecdsa.PublicKey).Equal(&p256.PublicKey) {
			t.Errorf("wrong key")
		}
	})
	t.Run("the thumbprint is RFC 7638's", func(t *testing.T) {
		// RFC 7638 §3.1: the members kty, crv, x, y in order, no spaces.
		r := runClientJWKS(t, "", "--public-key", writePEM(t, "PUBLIC KEY", pkixDER(t, &p256.PublicKey)))
		k := parseSet(t, r.stdout)
		b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
		canon := `{"crv":"P-256","kty":"EC","x":"` + b64(p256.X.FillBytes(make([]byte, 32))) + `","y":"` + b64(p256.Y.FillBytes(make([]byte, 32))) + `"}`
		sum := sha256.Sum256([]byte(canon))
		if k.KeyID != b64(sum[:]) {
			t.Errorf("kid %q, want %q", k.KeyID, b64(sum[:]))
		}
	})

	for _, tt := range []struct {
		name, input string
		flags       []string
		want        string
	}{
		{"garbage", "this is not a key\n", nil, "not PEM: want a PEM public key"},
		{"empty", "", nil, "not PEM"},
		{"no key block", "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", nil, "no key or certificate"},
		{"corrupt key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", nil, "the PUBLIC KEY block cannot be read"},
		{"encrypted private key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", nil, "openssl pkey -in KEY -pubout"},
		{"alg of another key type", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER(t, &p256.PublicKey)})), []string{"--alg", "RS256"}, "--alg RS256 does not fit this key: use ES256"},
		{"alg TNO refuses", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER(t, &rsaKey.PublicKey)})), []string{"--alg", "HS256"}, "TNO accepts client assertions signed with RS256"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runClientJWKS(t, tt.input, append([]string{"--public-key", "-"}, tt.flags...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1, nothing on stdout and %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
	t.Run("short RSA key", func(t *testing.T) {
		small, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		r := runClientJWKS(t, "", "--public-key", writePEM(t, "PUBLIC KEY", pkixDER(t, &small.PublicKey)))
		if r.code != 1 || !strings.Contains(r.stderr, "RSA key of 1024 bits") {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
	})
	t.Run("missing flag", func(t *testing.T) {
		if r := runClientJWKS(t, ""); r.code != 2 || !strings.Contains(r.stderr, "missing required flag --public-key") {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
	})
}

// FuzzClientJWKS: whatever the file, no panic, and what is printed is
// one public key.
func FuzzClientJWKS(f *testing.F) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, _, err := clientJWKS(data, "", "")
		if err != nil {
			return
		}
		if len(set.Keys) != 1 || !set.Keys[0].IsPublic() || !set.Keys[0].Valid() {
			t.Fatalf("not one valid public key: %+v", set)
		}
	})
}
