package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"sync"

	"github.com/territoires-ouverts/tno/internal/apps"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// pairwiseSecretName names the deployment secret keying pairwise subject
// identifiers. Changing the key (or the name) changes every pairwise sub.
const pairwiseSecretName = "pairwise_subject_v1"

// pairwiseKeySize is the size of the pairwise key: 256 bits.
const pairwiseKeySize = 32

// pairwiseKey caches the pairwise key once loaded: it never changes.
type pairwiseKey struct {
	mu  sync.Mutex
	key []byte // nil until loaded
}

// subject returns the subject identifier ("sub") of personID for app, the
// same in the ID token, userinfo, introspection and refreshed ID tokens.
// A public application gets the person ID, the same for every
// application. A pairwise one (OpenID Connect Core section 8.1) gets
//
//	base64url(HMAC-SHA256(key, sector || "|" || person ID))
//
// where sector is the host of the application's redirect URIs
// (apps.SectorIdentifier) and key the deployment's pairwise key: the
// applications of one sector see the same sub, the others different,
// unlinkable ones. A pairwise application whose sector cannot be derived
// is an error, never a fallback to the public identifier.
func (p *Provider) subject(ctx context.Context, app storage.Application, personID string) (string, error) {
	if app.Settings.SubjectType != apps.SubjectPairwise {
		return personID, nil
	}
	sector, err := apps.SectorIdentifier(app)
	if err != nil {
		return "", fmt.Errorf("subject for %s: %w", app.ClientID, err)
	}
	key, err := p.pairwiseKey(ctx)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sector))
	mac.Write([]byte("|"))
	mac.Write([]byte(personID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// pairwiseKey returns the deployment's pairwise key, created at first use
// and shared through the database by every instance; it is read once per
// process. A failed load is retried at the next call.
func (p *Provider) pairwiseKey(ctx context.Context) ([]byte, error) {
	p.pairwise.mu.Lock()
	defer p.pairwise.mu.Unlock()
	if p.pairwise.key != nil {
		return p.pairwise.key, nil
	}
	candidate := make([]byte, pairwiseKeySize)
	if _, err := rand.Read(candidate); err != nil {
		return nil, fmt.Errorf("pairwise key: %w", err)
	}
	key, err := p.store.GetOrCreateSecret(ctx, pairwiseSecretName, candidate)
	if err != nil {
		return nil, fmt.Errorf("pairwise key: %w", err)
	}
	if len(key) < pairwiseKeySize {
		return nil, fmt.Errorf("pairwise key: stored key has %d bytes, want %d", len(key), pairwiseKeySize)
	}
	if subtle.ConstantTimeCompare(key, candidate) == 1 {
		p.log.InfoContext(ctx, "pairwise subject key created")
	}
	p.pairwise.key = key
	return key, nil
}
