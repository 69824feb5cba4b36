package local

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/territoires-ouverts/tno/internal/storage"
)

// fakeStore is an in-memory storage.People and storage.Credentials.
type fakeStore struct {
	mu      sync.Mutex
	people  map[string]storage.Person // by ID
	hashes  map[string]string         // person ID → PHC
	err     error                     // returned by every read when set
	setErr  error                     // returned by SetPasswordHash when set
	setHash int                       // SetPasswordHash calls
	change  map[string]bool           // person ID → must change
}

var (
	_ storage.People      = (*fakeStore)(nil)
	_ storage.Credentials = (*fakeStore)(nil)
)

func newFakeStore() *fakeStore {
	return &fakeStore{people: map[string]storage.Person{}, hashes: map[string]string{}}
}

func (s *fakeStore) CreatePerson(_ context.Context, p *storage.Person) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = storage.NewID()
	}
	for _, q := range s.people {
		if q.Username == p.Username {
			return storage.ErrConflict
		}
	}
	s.people[p.ID] = *p
	return nil
}

func (s *fakeStore) GetPerson(_ context.Context, id string) (storage.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return storage.Person{}, s.err
	}
	p, ok := s.people[id]
	if !ok {
		return storage.Person{}, storage.ErrNotFound
	}
	return p, nil
}

func (s *fakeStore) GetPersonByEmail(_ context.Context, email string) (storage.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return storage.Person{}, s.err
	}
	var found []storage.Person
	for _, p := range s.people {
		if p.Email != "" && strings.EqualFold(p.Email, email) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		return storage.Person{}, storage.ErrNotFound
	}
	return found[0], nil
}

func (s *fakeStore) GetPersonByUsername(_ context.Context, username string) (storage.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return storage.Person{}, s.err
	}
	for _, p := range s.people {
		if p.Username == username {
			return p, nil
		}
	}
	return storage.Person{}, storage.ErrNotFound
}

func (s *fakeStore) UpdatePerson(_ context.Context, p *storage.Person) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.people[p.ID]; !ok {
		return storage.ErrNotFound
	}
	s.people[p.ID] = *p
	return nil
}

func (s *fakeStore) ListPeople(context.Context) ([]storage.Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.Person
	for _, p := range s.people {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out, nil
}

func (s *fakeStore) ListPeopleInOrganization(context.Context, string) ([]storage.Person, error) {
	return nil, errors.New("fake: not implemented")
}

func (s *fakeStore) CountPeopleInOrganization(context.Context, string) (int, error) {
	return 0, errors.New("fake: not implemented")
}

func (s *fakeStore) SetPasswordHash(_ context.Context, personID, phc string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setHash++
	if s.setErr != nil {
		return s.setErr
	}
	s.hashes[personID] = phc
	return nil
}

func (s *fakeStore) SetPasswordChangeRequired(_ context.Context, personID string, required bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.hashes[personID]; !ok {
		return storage.ErrNotFound
	}
	if s.change == nil {
		s.change = map[string]bool{}
	}
	s.change[personID] = required
	return nil
}

func (s *fakeStore) PasswordChangeRequired(_ context.Context, personID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change[personID], s.err
}

func (s *fakeStore) GetPasswordHash(_ context.Context, personID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	phc, ok := s.hashes[personID]
	if !ok {
		return "", storage.ErrNotFound
	}
	return phc, nil
}

func (s *fakeStore) hash(personID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hashes[personID]
}
