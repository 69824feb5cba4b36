package storagetest_test

import (
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage"
	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

func TestNewStore(t *testing.T) {
	for i := range 2 { // two stores in one test are independent
		s := storagetest.NewStore(t)
		o := storage.Organization{Slug: "org"}
		if err := s.CreateOrganization(t.Context(), &o); err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPostgresDSNUnset(t *testing.T) {
	t.Setenv(storagetest.EnvPostgresDSN, "")
	t.Setenv(storagetest.EnvRequirePostgres, "")
	if dsn, ok := storagetest.PostgresDSN(t); ok || dsn != "" {
		t.Errorf("PostgresDSN = %q, %v; want \"\", false", dsn, ok)
	}
}
