package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

const signInColumns = `id, browser_hash, source, protocol, protocol_ref, client_id, data, created_at, expires_at`

func scanSignIn(r rowScanner) (storage.SignIn, error) {
	var (
		v    storage.SignIn
		data string
	)
	err := r.Scan(&v.ID, &v.BrowserHash, &v.Source, &v.Protocol, &v.ProtocolRef, &v.ClientID, &data,
		ts(&v.CreatedAt), ts(&v.ExpiresAt))
	v.Data = []byte(data)
	return v, err
}

// CreateSignIn inserts x, setting ID if empty and CreatedAt if zero.
func (s *Store) CreateSignIn(ctx context.Context, x *storage.SignIn) error {
	v := *x
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.ExpiresAt = norm(v.ExpiresAt)
	_, err := s.exec(ctx, "create sign-in",
		`INSERT INTO sign_ins (`+signInColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		v.ID, v.BrowserHash, v.Source, v.Protocol, v.ProtocolRef, v.ClientID, string(v.Data),
		micros(v.CreatedAt), micros(v.ExpiresAt))
	if err != nil {
		return err
	}
	*x = v
	return nil
}

// GetSignIn returns a sign-in, expired or not.
func (s *Store) GetSignIn(ctx context.Context, id string) (storage.SignIn, error) {
	return queryOne(ctx, s, "get sign-in", scanSignIn,
		`SELECT `+signInColumns+` FROM sign_ins WHERE id = $1`, id)
}

// UpdateSignIn replaces a sign-in's data.
func (s *Store) UpdateSignIn(ctx context.Context, id string, data []byte) error {
	return s.execOne(ctx, "update sign-in", `UPDATE sign_ins SET data = $2 WHERE id = $1`, id, string(data))
}

// DeleteSignIn deletes a sign-in.
func (s *Store) DeleteSignIn(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete sign-in", `DELETE FROM sign_ins WHERE id = $1`, id)
}

// DeleteExpiredSignIns deletes the sign-ins that expired before before.
func (s *Store) DeleteExpiredSignIns(ctx context.Context, before time.Time) (int, error) {
	return s.exec(ctx, "delete expired sign-ins", `DELETE FROM sign_ins WHERE expires_at < $1`, micros(before))
}

const factorColumns = `id, person_id, kind, name, secret, credential_id, data, last_step, created_at, last_used_at`

func scanFactor(r rowScanner) (storage.Factor, error) {
	var (
		v    storage.Factor
		data string
	)
	err := r.Scan(&v.ID, &v.PersonID, &v.Kind, &v.Name, &v.Secret, &v.CredentialID, &data, &v.LastStep,
		ts(&v.CreatedAt), nts(&v.LastUsedAt))
	if data != "" {
		v.Data = []byte(data)
	}
	return v, err
}

// CreateFactor inserts f, setting ID if empty and CreatedAt if zero.
func (s *Store) CreateFactor(ctx context.Context, f *storage.Factor) error {
	v := *f
	if v.ID == "" {
		v.ID = storage.NewID()
	}
	v.CreatedAt = norm(s.orNow(v.CreatedAt))
	v.LastUsedAt = normp(v.LastUsedAt)
	_, err := s.exec(ctx, "create factor",
		`INSERT INTO factors (`+factorColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		v.ID, v.PersonID, v.Kind, v.Name, v.Secret, v.CredentialID, string(v.Data), v.LastStep,
		micros(v.CreatedAt), nullMicros(v.LastUsedAt))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// ListFactors returns a person's factors, oldest first.
func (s *Store) ListFactors(ctx context.Context, personID string) ([]storage.Factor, error) {
	return queryList(ctx, s, "list factors", scanFactor,
		`SELECT `+factorColumns+` FROM factors WHERE person_id = $1 ORDER BY created_at, id`, personID)
}

// GetFactorByCredentialID returns the passkey with that credential ID.
func (s *Store) GetFactorByCredentialID(ctx context.Context, credentialID string) (storage.Factor, error) {
	return queryOne(ctx, s, "get factor by credential", scanFactor,
		`SELECT `+factorColumns+` FROM factors WHERE credential_id = $1 AND credential_id <> ''`, credentialID)
}

// RenameFactor renames one of the person's factors.
func (s *Store) RenameFactor(ctx context.Context, personID, id, name string) error {
	return s.execOne(ctx, "rename factor",
		`UPDATE factors SET name = $3 WHERE id = $1 AND person_id = $2`, id, personID, name)
}

// DeleteFactor deletes one of the person's factors.
func (s *Store) DeleteFactor(ctx context.Context, personID, id string) error {
	return s.execOne(ctx, "delete factor", `DELETE FROM factors WHERE id = $1 AND person_id = $2`, id, personID)
}

// DeleteFactors deletes the person's factors of the kinds given, all if
// none.
func (s *Store) DeleteFactors(ctx context.Context, personID string, kinds ...string) (int, error) {
	if len(kinds) == 0 {
		return s.exec(ctx, "delete factors", `DELETE FROM factors WHERE person_id = $1`, personID)
	}
	args := []any{personID}
	marks := make([]string, len(kinds))
	for i, k := range kinds {
		args = append(args, k)
		marks[i] = "$" + strconv.Itoa(i+2)
	}
	return s.exec(ctx, "delete factors",
		`DELETE FROM factors WHERE person_id = $1 AND kind IN (`+strings.Join(marks, ", ")+`)`, args...)
}

// UseFactorStep records an accepted TOTP step, compare-and-set on
// last_step: one caller per step wins.
func (s *Store) UseFactorStep(ctx context.Context, personID, id string, step int64, at time.Time) error {
	const op = "use factor step"
	n, err := s.exec(ctx, op,
		`UPDATE factors SET last_step = $3, last_used_at = $4
		 WHERE id = $1 AND person_id = $2 AND last_step < $3`, id, personID, step, micros(norm(at)))
	if err != nil || n == 1 {
		return err
	}
	if _, err := queryOne(ctx, s, op, scanFactor,
		`SELECT `+factorColumns+` FROM factors WHERE id = $1 AND person_id = $2`, id, personID); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w", op, storage.ErrAlreadyUsed)
}

// UseFactorData records a passkey's use with its new stored credential.
func (s *Store) UseFactorData(ctx context.Context, personID, id string, data []byte, at time.Time) error {
	return s.execOne(ctx, "use factor",
		`UPDATE factors SET data = $3, last_used_at = $4 WHERE id = $1 AND person_id = $2`,
		id, personID, string(data), micros(norm(at)))
}

// ConsumeFactor deletes a single-use factor; one concurrent caller wins.
func (s *Store) ConsumeFactor(ctx context.Context, personID, id string) error {
	return s.execOne(ctx, "consume factor", `DELETE FROM factors WHERE id = $1 AND person_id = $2`, id, personID)
}
