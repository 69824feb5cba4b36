package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// TestSecretsAcrossInstances: instances sharing one database file agree on
// a deployment secret they all create at once.
func TestSecretsAcrossInstances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tno.db")
	a, b, c := open(t, path), open(t, path), open(t, path)
	storagetest.SecretsAgree(t, a, b, c)
}
