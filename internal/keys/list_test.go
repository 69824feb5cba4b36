package keys

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// states returns the kid → state map of List.
func states(t *testing.T, m *Manager) map[string]string {
	t.Helper()
	infos, err := m.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	out := make(map[string]string, len(infos))
	for _, in := range infos {
		out[in.ID] = in.State
	}
	return out
}

func TestList(t *testing.T) {
	ctx := context.Background()
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, ES256)

	if got := states(t, m); len(got) != 0 {
		t.Fatalf("List on an empty store = %v", got)
	}
	if _, err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	infos, err := m.List(ctx)
	if err != nil || len(infos) != 1 {
		t.Fatalf("List = %v, %v; want one key", infos, err)
	}
	first := infos[0]
	if first.State != StateSigning || first.Algorithm != ES256 || !first.ActiveAt.Equal(clock.Now()) ||
		first.RetiredAt != nil || first.ExpiresAt != nil {
		t.Errorf("first key = %+v", first)
	}

	clock.Advance(time.Minute)
	if err := m.Rotate(ctx, 10*time.Minute, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	infos, err = m.List(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("List after Rotate = %v, %v; want two keys", infos, err)
	}
	old, next := infos[0], infos[1]
	if old.ID != first.ID {
		t.Fatalf("List order: %s first, want the oldest key %s", old.ID, first.ID)
	}
	activation := clock.Now().Add(10 * time.Minute)
	if !next.ActiveAt.Equal(activation) || old.RetiredAt == nil || !old.RetiredAt.Equal(next.ActiveAt) ||
		old.ExpiresAt == nil || !old.ExpiresAt.Equal(activation.Add(24*time.Hour)) {
		t.Errorf("after Rotate: old %+v, next %+v", old, next)
	}
	if diff := cmp.Diff(map[string]string{old.ID: StateSigning, next.ID: StateNext}, states(t, m)); diff != "" {
		t.Errorf("states before activation (-want +got):\n%s", diff)
	}

	clock.Advance(10 * time.Minute)
	if diff := cmp.Diff(map[string]string{old.ID: StateRetired, next.ID: StateSigning}, states(t, m)); diff != "" {
		t.Errorf("states at activation (-want +got):\n%s", diff)
	}
	clock.Advance(24 * time.Hour)
	if diff := cmp.Diff(map[string]string{old.ID: StateExpired, next.ID: StateSigning}, states(t, m)); diff != "" {
		t.Errorf("states after expiry (-want +got):\n%s", diff)
	}

	// A key superseded without retirement, and one that cannot be parsed.
	both := storage.SigningKey{ID: "later", Algorithm: ES256, PrivateJWK: store.get(next.ID).PrivateJWK,
		CreatedAt: clock.Now(), ActiveAt: clock.Now()}
	garbage := storage.SigningKey{ID: "garbage", Algorithm: ES256, PrivateJWK: []byte(`{`), CreatedAt: clock.Now(), ActiveAt: clock.Now()}
	for _, k := range []*storage.SigningKey{&both, &garbage} {
		if err := store.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second)
	want := map[string]string{old.ID: StateExpired, next.ID: StatePublished, "later": StateSigning, "garbage": StateUnusable}
	if diff := cmp.Diff(want, states(t, m)); diff != "" {
		t.Errorf("states with a superseded and an unusable key (-want +got):\n%s", diff)
	}
}

func TestListStoreError(t *testing.T) {
	store, clock := newFakeStore(), newClock()
	m := newManager(t, store, clock, RS256)
	store.err = context.DeadlineExceeded
	if _, err := m.List(context.Background()); err == nil {
		t.Error("List succeeded with a failing store")
	}
}
