package keys

import (
	"bytes"
	"context"
	"sort"
	"sync"
	"time"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// fakeStore is an in-memory storage.SigningKeys.
type fakeStore struct {
	mu    sync.Mutex
	keys  map[string]storage.SigningKey
	lists int // ListSigningKeys calls
	err   error
}

var _ storage.SigningKeys = (*fakeStore)(nil)

func newFakeStore() *fakeStore { return &fakeStore{keys: map[string]storage.SigningKey{}} }

func (s *fakeStore) CreateSigningKey(_ context.Context, k *storage.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return storage.ErrConflict
	}
	s.keys[k.ID] = cloneKey(*k)
	return nil
}

func (s *fakeStore) ListSigningKeys(context.Context) ([]storage.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if s.err != nil {
		return nil, s.err
	}
	out := make([]storage.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, cloneKey(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func (s *fakeStore) UpdateSigningKey(_ context.Context, k *storage.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.keys[k.ID]
	if !ok {
		return storage.ErrNotFound
	}
	cur.RetiredAt, cur.ExpiresAt = clonePtr(k.RetiredAt), clonePtr(k.ExpiresAt)
	s.keys[k.ID] = cur
	return nil
}

func (s *fakeStore) get(id string) storage.SigningKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneKey(s.keys[id])
}

func (s *fakeStore) listCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

func cloneKey(k storage.SigningKey) storage.SigningKey {
	k.PrivateJWK = bytes.Clone(k.PrivateJWK)
	k.RetiredAt, k.ExpiresAt = clonePtr(k.RetiredAt), clonePtr(k.ExpiresAt)
	return k
}

func clonePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
