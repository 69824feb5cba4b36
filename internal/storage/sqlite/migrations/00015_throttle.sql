-- Brute-force throttling shared by every instance (see storage.Throttles):
-- failure counters per key, and the devices (browsers) each account
-- signed in from, whose attempts escape the account-wide limit. Keys,
-- accounts and devices are hashes computed by internal/throttle: no
-- identifier an attacker typed is stored in clear. Keep in step with the
-- PostgreSQL flavour.

-- The count restarts at the first failure once window_end and next_at
-- have both passed; times are Unix microseconds.
CREATE TABLE throttles (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    next_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX throttles_window_end ON throttles (window_end);

CREATE TABLE known_devices (
    account    TEXT NOT NULL,
    device     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (account, device)
) STRICT;
CREATE INDEX known_devices_expires_at ON known_devices (expires_at);
