package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
)

func secretTests() []test {
	return []test{
		{"first value stays", func(t *testing.T, f fixture) {
			first := []byte{0, 1, 2, 0xfe, 0xff} // binary-safe
			got := get(f.s.GetOrCreateSecret(f.ctx, "pairwise", first))(t)
			diff(t, first, got)
			got = get(f.s.GetOrCreateSecret(f.ctx, "pairwise", []byte("second")))(t)
			diff(t, first, got)
		}},
		{"names are independent", func(t *testing.T, f fixture) {
			diff(t, []byte("a"), get(f.s.GetOrCreateSecret(f.ctx, "a", []byte("a")))(t))
			diff(t, []byte("b"), get(f.s.GetOrCreateSecret(f.ctx, "b", []byte("b")))(t))
			diff(t, []byte("a"), get(f.s.GetOrCreateSecret(f.ctx, "a", []byte("x")))(t))
		}},
		{"empty name or value refused", func(t *testing.T, f fixture) {
			if _, err := f.s.GetOrCreateSecret(f.ctx, "", []byte("v")); err == nil {
				t.Error("empty name accepted")
			}
			if _, err := f.s.GetOrCreateSecret(f.ctx, "n", nil); err == nil {
				t.Error("empty value accepted")
			}
			// Nothing was stored by the refusals.
			diff(t, []byte("v"), get(f.s.GetOrCreateSecret(f.ctx, "n", []byte("v")))(t))
		}},
		{"rolled back with its transaction", func(t *testing.T, f fixture) {
			errRollback := errors.New("rollback")
			err := f.s.WithTx(f.ctx, func(tx storage.Store) error {
				got, err := tx.GetOrCreateSecret(f.ctx, "k", []byte("in-tx"))
				if err != nil {
					return err
				}
				diff(t, []byte("in-tx"), got)
				return errRollback
			})
			wantErr(t, err, errRollback)
			diff(t, []byte("after"), get(f.s.GetOrCreateSecret(f.ctx, "k", []byte("after")))(t))
		}},
		{"concurrent callers agree", func(t *testing.T, f fixture) {
			SecretsAgree(t, f.s, f.s, f.s, f.s, f.s, f.s, f.s, f.s)
		}},
	}
}

// SecretsAgree has each store (several instances on one database, or one
// store used concurrently) ask at once for the same new deployment secret,
// each with its own candidate value: all must get the same value, one of
// the candidates.
func SecretsAgree(t *testing.T, stores ...storage.Store) {
	t.Helper()
	const name = "agreement"
	const rounds = 3 // goroutines per store
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		candidates [][]byte
		got        [][]byte
		errs       []error
	)
	for i, s := range stores {
		for r := range rounds {
			candidate := fmt.Appendf(nil, "candidate-%d-%d", i, r)
			candidates = append(candidates, candidate)
			wg.Go(func() {
				v, err := s.GetOrCreateSecret(t.Context(), name, candidate)
				mu.Lock()
				defer mu.Unlock()
				got, errs = append(got, v), append(errs, err)
			})
		}
	}
	wg.Wait()
	must(t, errors.Join(errs...))
	for _, v := range got {
		if !bytes.Equal(v, got[0]) {
			t.Fatalf("callers got different values: %q and %q", got[0], v)
		}
	}
	if !slices.ContainsFunc(candidates, func(c []byte) bool { return bytes.Equal(c, got[0]) }) {
		t.Errorf("value %q is none of the candidates", got[0])
	}
}
