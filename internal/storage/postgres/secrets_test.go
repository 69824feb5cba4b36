package postgres_test

import (
	"testing"

	"github.com/territoires-ouverts/tno/internal/storage/storagetest"
)

// TestSecretsAcrossInstances: instances sharing one schema agree on a
// deployment secret they all create at once.
func TestSecretsAcrossInstances(t *testing.T) {
	d := dsn(t)
	a, b, c := open(t, d), open(t, d), open(t, d)
	storagetest.SecretsAgree(t, a, b, c)
}
