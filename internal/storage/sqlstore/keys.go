package sqlstore

import (
	"context"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const keyColumns = `id, algorithm, private_jwk, created_at, active_at, retired_at, expires_at`

func scanKey(r rowScanner) (storage.SigningKey, error) {
	var k storage.SigningKey
	err := r.Scan(&k.ID, &k.Algorithm, &k.PrivateJWK, ts(&k.CreatedAt), ts(&k.ActiveAt),
		nts(&k.RetiredAt), nts(&k.ExpiresAt))
	return k, err
}

// CreateSigningKey inserts k, setting ID if empty and CreatedAt if zero;
// ErrConflict on a duplicate ID.
func (s *Store) CreateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	v := *k
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.ActiveAt, v.RetiredAt, v.ExpiresAt = norm(v.ActiveAt), normp(v.RetiredAt), normp(v.ExpiresAt)
	jwk := v.PrivateJWK
	if jwk == nil {
		jwk = []byte{} // nil would be NULL
	}
	_, err := s.exec(ctx, "create signing key",
		`INSERT INTO signing_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		v.ID, v.Algorithm, jwk, micros(v.CreatedAt), micros(v.ActiveAt),
		nullMicros(v.RetiredAt), nullMicros(v.ExpiresAt))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ListSigningKeys returns every key, oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	return queryList(ctx, s, "list signing keys", scanKey,
		`SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, id`)
}

// UpdateSigningKey updates a key's RetiredAt and ExpiresAt, nothing else.
func (s *Store) UpdateSigningKey(ctx context.Context, k *storage.SigningKey) error {
	retired, expires := normp(k.RetiredAt), normp(k.ExpiresAt)
	err := s.execOne(ctx, "update signing key",
		`UPDATE signing_keys SET retired_at = $2, expires_at = $3 WHERE id = $1`,
		k.ID, nullMicros(retired), nullMicros(expires))
	if err != nil {
		return err
	}
	k.RetiredAt, k.ExpiresAt = retired, expires
	return nil
}
