package storage

import "context"

// DeploymentSecrets keeps the deployment's named secrets: random values
// created once, kept in the database so that every instance of the
// deployment uses the same one, and never changed afterwards (such as
// the key of pairwise subject identifiers). A secret's value is as
// sensitive as the signing keys.
type DeploymentSecrets interface {
	// GetOrCreateSecret returns the value of the secret named name,
	// storing candidate (a fresh random value) as that value first if
	// the secret does not exist yet. Concurrent callers, in one process
	// or several, all get the value stored first. name and candidate must
	// not be empty.
	GetOrCreateSecret(ctx context.Context, name string, candidate []byte) ([]byte, error)
}
