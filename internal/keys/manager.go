package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// Supported signing algorithms.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// rsaBits is the size of new RSA keys. 2048 bits rather than 3072: every
// relying-party library accepts it (some older ones choke on larger keys),
// signing is about three times faster, and it stays acceptable (ANSSI,
// NIST) for keys rotated regularly.
const rsaBits = 2048

// ErrNoActiveKey means the store holds no key usable for signing now; call
// Ensure at start-up.
var ErrNoActiveKey = errors.New("keys: no active signing key")

// Options configures a Manager.
type Options struct {
	Store  storage.SigningKeys
	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default: discard
	// Algorithm of new keys: RS256 (default) or ES256. Existing keys keep
	// their own algorithm.
	Algorithm string
	// RefreshEvery bounds how often keys are reloaded from the store (by
	// the Now clock), so several instances see each other's rotations.
	// Default one minute.
	RefreshEvery time.Duration
}

// Manager creates, rotates and serves signing keys. It is safe for
// concurrent use.
type Manager struct {
	store        storage.SigningKeys
	now          func() time.Time
	log          *slog.Logger
	alg          string
	refreshEvery time.Duration

	reloadMu sync.Mutex // serializes reloads from the store

	mu       sync.RWMutex
	keys     []*key // as listed by the store; replaced, never mutated
	loaded   bool
	loadedAt time.Time
	// JWKS cache: the published key IDs it was built from, its JSON and
	// its keys.
	jwksIDs  string
	jwksJSON []byte
	jwksSet  []jose.JSONWebKey
}

// key is a parsed stored key. Immutable once built.
type key struct {
	rec  storage.SigningKey
	priv *jose.JSONWebKey
	pub  jose.JSONWebKey
}

// New returns a Manager. It does not touch the store: call Ensure at start.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil {
		return nil, errors.New("keys: Options.Store is required")
	}
	m := &Manager{
		store:        opts.Store,
		now:          opts.Now,
		log:          opts.Logger,
		alg:          opts.Algorithm,
		refreshEvery: opts.RefreshEvery,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	switch m.alg {
	case "":
		m.alg = RS256
	case RS256, ES256:
	default:
		return nil, fmt.Errorf("keys: unsupported algorithm %q (want %s or %s)", m.alg, RS256, ES256)
	}
	switch {
	case m.refreshEvery == 0:
		m.refreshEvery = time.Minute
	case m.refreshEvery < 0:
		return nil, fmt.Errorf("keys: negative RefreshEvery %v", m.refreshEvery)
	}
	return m, nil
}

// Ensure creates and stores a signing key, active at once, if the store
// has no key usable for signing now. Safe to call at each start. Returns
// whether it created one.
//
// Two instances starting together may both create a key; that is harmless:
// both are published and the one activated last signs.
func (m *Manager) Ensure(ctx context.Context) (created bool, err error) {
	ks, err := m.reload(ctx, true)
	if err != nil {
		return false, err
	}
	now := m.now()
	if activeKey(ks, now) != nil {
		return false, nil
	}
	ts := storeTime(now)
	rec, err := m.generate(ts, ts)
	if err != nil {
		return false, err
	}
	if err := m.store.CreateSigningKey(ctx, &rec); err != nil {
		return false, fmt.Errorf("keys: store new key %s: %w", rec.ID, err)
	}
	m.invalidate()
	m.log.InfoContext(ctx, "signing key created", "kid", rec.ID, "alg", rec.Algorithm)
	return true, nil
}

// Rotate creates a new key, published at once and used to sign from
// now+publishDelay, and schedules the retirement of the current keys at
// that moment: they stop signing then and stay published until
// retirement + keepFor. keepFor should exceed the lifetime of every token
// they signed; publishDelay should exceed the time relying parties cache
// the JWKS.
func (m *Manager) Rotate(ctx context.Context, publishDelay, keepFor time.Duration) error {
	if publishDelay < 0 || keepFor < 0 {
		return fmt.Errorf("keys: rotate: negative duration (publishDelay %v, keepFor %v)", publishDelay, keepFor)
	}
	ks, err := m.reload(ctx, true)
	if err != nil {
		return err
	}
	now := storeTime(m.now())
	activeAt := now.Add(publishDelay)
	expiresAt := activeAt.Add(keepFor)

	// Create the new key first: if retiring the old ones fails, the new
	// key still takes over at activeAt (the latest active key signs).
	rec, err := m.generate(now, activeAt)
	if err != nil {
		return err
	}
	if err := m.store.CreateSigningKey(ctx, &rec); err != nil {
		return fmt.Errorf("keys: store new key %s: %w", rec.ID, err)
	}
	defer m.invalidate()

	var retired []string
	for _, k := range ks {
		old := k.rec
		if old.ExpiresAt != nil && !now.Before(*old.ExpiresAt) {
			continue // already gone
		}
		if old.RetiredAt != nil && !old.RetiredAt.After(activeAt) {
			continue // retires before the new key takes over
		}
		old.RetiredAt = &activeAt
		if old.ExpiresAt == nil || old.ExpiresAt.After(expiresAt) {
			exp := expiresAt
			old.ExpiresAt = &exp
		}
		if err := m.store.UpdateSigningKey(ctx, &old); err != nil {
			return fmt.Errorf("keys: retire key %s: %w", old.ID, err)
		}
		retired = append(retired, old.ID)
	}
	m.log.InfoContext(ctx, "signing key rotated",
		"kid", rec.ID, "alg", rec.Algorithm, "active_at", activeAt,
		"retired_kids", retired, "expires_at", expiresAt)
	return nil
}

// Sign signs payload (JSON claims) as a compact JWS with the key active
// now. The header carries alg, kid and, if typ is not empty, typ ("JWT",
// "logout+jwt"…).
func (m *Manager) Sign(ctx context.Context, payload []byte, typ string) (string, error) {
	k, err := m.active(ctx)
	if err != nil {
		return "", err
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	// The private JWK carries KeyID, so go-jose emits kid.
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.rec.Algorithm),
		Key:       k.priv,
	}, opts)
	if err != nil {
		return "", fmt.Errorf("keys: signer for %s: %w", k.rec.ID, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign with %s: %w", k.rec.ID, err)
	}
	return jws.CompactSerialize()
}

// SigningAlgorithm returns the alg of the key Sign uses now.
func (m *Manager) SigningAlgorithm(ctx context.Context) (string, error) {
	k, err := m.active(ctx)
	if err != nil {
		return "", err
	}
	return k.rec.Algorithm, nil
}

// JWKS returns the public keys to publish (every key not past its
// ExpiresAt, including keys not yet active) as a JSON JWK Set. The JSON is
// built once per distinct key set and served from memory afterwards.
func (m *Manager) JWKS(ctx context.Context) ([]byte, error) {
	b, _, err := m.published(ctx)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// PublicKeys returns the set JWKS publishes, to verify TNO's own tokens.
func (m *Manager) PublicKeys(ctx context.Context) (jose.JSONWebKeySet, error) {
	_, set, err := m.published(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return jose.JSONWebKeySet{Keys: slices.Clone(set)}, nil
}

// published returns the cached JWKS JSON and keys, rebuilding them only
// when the set of published key IDs changed. The results are shared: the
// caller must not modify them.
func (m *Manager) published(ctx context.Context) ([]byte, []jose.JSONWebKey, error) {
	ks, err := m.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := m.now()
	var pub []*key
	var ids strings.Builder
	for _, k := range ks {
		if k.rec.ExpiresAt != nil && !now.Before(*k.rec.ExpiresAt) {
			continue
		}
		pub = append(pub, k)
		ids.WriteString(k.rec.ID)
		ids.WriteByte('\n')
	}
	sig := ids.String()

	m.mu.RLock()
	b, set := m.jwksJSON, m.jwksSet
	hit := b != nil && m.jwksIDs == sig
	m.mu.RUnlock()
	if hit {
		return b, set, nil
	}

	set = make([]jose.JSONWebKey, 0, len(pub))
	for _, k := range pub {
		set = append(set, k.pub)
	}
	b, err = json.Marshal(jose.JSONWebKeySet{Keys: set})
	if err != nil {
		return nil, nil, fmt.Errorf("keys: marshal JWKS: %w", err)
	}
	m.mu.Lock()
	m.jwksIDs, m.jwksJSON, m.jwksSet = sig, b, set
	m.mu.Unlock()
	return b, set, nil
}

// active returns the key that signs now.
func (m *Manager) active(ctx context.Context) (*key, error) {
	ks, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	k := activeKey(ks, m.now())
	if k == nil {
		return nil, ErrNoActiveKey
	}
	return k, nil
}

// activeKey returns the key that signs at now: active, not retired, not
// expired; the one activated last if several.
func activeKey(ks []*key, now time.Time) *key {
	var best *key
	for _, k := range ks {
		r := &k.rec
		if now.Before(r.ActiveAt) ||
			(r.RetiredAt != nil && !now.Before(*r.RetiredAt)) ||
			(r.ExpiresAt != nil && !now.Before(*r.ExpiresAt)) {
			continue
		}
		if best == nil || !r.ActiveAt.Before(best.rec.ActiveAt) {
			best = k
		}
	}
	return best
}

// current returns the in-memory keys, reloading them from the store when
// RefreshEvery has elapsed.
func (m *Manager) current(ctx context.Context) ([]*key, error) {
	m.mu.RLock()
	ks, fresh := m.keys, m.freshLocked(m.now())
	m.mu.RUnlock()
	if fresh {
		return ks, nil
	}
	return m.reload(ctx, false)
}

// freshLocked reports whether the loaded keys may be used without a
// reload. m.mu must be held.
func (m *Manager) freshLocked(now time.Time) bool {
	return m.loaded && !now.Before(m.loadedAt) && now.Sub(m.loadedAt) < m.refreshEvery
}

// invalidate forces a reload on next use.
func (m *Manager) invalidate() {
	m.mu.Lock()
	m.loaded = false
	m.mu.Unlock()
}

// reload lists the keys from the store and parses the new ones. Unless
// force, it does nothing if another caller reloaded meanwhile. When a
// periodic reload fails, the keys already loaded keep being used until the
// next period.
func (m *Manager) reload(ctx context.Context, force bool) ([]*key, error) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()

	m.mu.RLock()
	old, fresh, loaded := m.keys, m.freshLocked(m.now()), m.loaded
	m.mu.RUnlock()
	if fresh && !force {
		return old, nil
	}

	recs, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		err = fmt.Errorf("keys: list signing keys: %w", err)
		if force || !loaded || len(old) == 0 {
			return nil, err
		}
		m.log.WarnContext(ctx, "signing keys reload failed, keeping loaded keys", "err", err)
		m.mu.Lock()
		m.loadedAt = m.now()
		m.mu.Unlock()
		return old, nil
	}

	byID := make(map[string]*key, len(old))
	for _, k := range old {
		byID[k.rec.ID] = k
	}
	ks := make([]*key, 0, len(recs))
	for _, rec := range recs {
		if prev, ok := byID[rec.ID]; ok && bytes.Equal(prev.rec.PrivateJWK, rec.PrivateJWK) {
			ks = append(ks, &key{rec: rec, priv: prev.priv, pub: prev.pub})
			continue
		}
		k, err := parseKey(rec)
		if err != nil {
			m.log.ErrorContext(ctx, "unusable signing key skipped", "kid", rec.ID, "err", err)
			continue
		}
		ks = append(ks, k)
	}

	m.mu.Lock()
	m.keys, m.loaded, m.loadedAt = ks, true, m.now()
	m.mu.Unlock()
	return ks, nil
}

// generate creates a new private key of the configured algorithm.
func (m *Manager) generate(createdAt, activeAt time.Time) (storage.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch m.alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: generate %s key: %w", m.alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: m.alg, Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: thumbprint: %w", err)
	}
	// kid: RFC 7638 thumbprint, so the same key always has the same kid.
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	raw, err := jwk.MarshalJSON()
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: marshal private JWK: %w", err)
	}
	return storage.SigningKey{
		ID:         jwk.KeyID,
		Algorithm:  m.alg,
		PrivateJWK: raw,
		CreatedAt:  createdAt,
		ActiveAt:   activeAt,
	}, nil
}

// parseKey parses and checks a stored private JWK.
func parseKey(rec storage.SigningKey) (*key, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(rec.PrivateJWK); err != nil {
		return nil, fmt.Errorf("parse private JWK: %w", err)
	}
	if !jwk.Valid() || jwk.IsPublic() {
		return nil, errors.New("not a valid private key")
	}
	switch rec.Algorithm {
	case RS256:
		k, ok := jwk.Key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s needs an RSA key, have %T", rec.Algorithm, jwk.Key)
		}
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key too small: %d bits", k.N.BitLen())
		}
	case ES256:
		k, ok := jwk.Key.(*ecdsa.PrivateKey)
		if !ok || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s needs a P-256 key, have %T", rec.Algorithm, jwk.Key)
		}
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", rec.Algorithm)
	}
	// The record is authoritative for kid and alg.
	jwk.KeyID, jwk.Algorithm, jwk.Use = rec.ID, rec.Algorithm, "sig"
	return &key{rec: rec, priv: &jwk, pub: jwk.Public()}, nil
}

// storeTime drops the monotonic reading and sub-microsecond precision
// (PostgreSQL keeps microseconds), so stored and in-memory times agree.
func storeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
