-- Named deployment secrets (see storage.DeploymentSecrets): random values
-- created once and shared by every instance, such as the key of pairwise
-- subject identifiers. created_at in Unix microseconds.
CREATE TABLE deployment_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
