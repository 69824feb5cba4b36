package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/keys"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// Defaults of tno keys rotate.
const (
	// defaultPublishDelay exceeds the time relying parties commonly cache
	// TNO's JWKS (and the minute running servers take to reload keys), so
	// that they know the new key before it signs.
	defaultPublishDelay = 10 * time.Minute
	// defaultKeep exceeds the lifetime of the tokens the old key signed.
	defaultKeep = 24 * time.Hour
)

func runKeys(ctx context.Context, env *cliEnv, args []string) error {
	return dispatch(ctx, env, "keys", []subcommand{
		{"list", "list the signing keys and their state (never their private part)", keysList},
		{"rotate", "create a new signing key and retire the current one", keysRotate},
		{"client-jwks", "print the JWK Set of an application's public key, for private_key_jwt (--jwks-file)", keysClientJWKS},
	}, args)
}

// keyView is a signing key as the CLI prints it in JSON.
type keyView struct {
	KID       string     `json:"kid"`
	Alg       string     `json:"alg"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	ActiveAt  time.Time  `json:"active_at"`
	RetiredAt *time.Time `json:"retired_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// newKeyManager returns a key manager on st creating keys of alg.
func newKeyManager(st storage.SigningKeys, alg string) (*keys.Manager, error) {
	return keys.New(keys.Options{Store: st, Algorithm: alg, Logger: slog.New(slog.DiscardHandler)})
}

func keysList(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var asJSON, all bool
	fs := newFlagSet(env, "keys list", "[--all] [--json]", &cf)
	fs.BoolVar(&all, "all", false, "include expired keys (no longer published)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if stop, err := parse(fs, args); stop {
		return err
	}
	return withStore(ctx, env, &cf, func(st storage.Store, cfg config.Config) error {
		m, err := newKeyManager(st, cfg.Signing.Algorithm)
		if err != nil {
			return err
		}
		infos, err := m.List(ctx)
		if err != nil {
			return err
		}
		views := []keyView{}
		for _, in := range infos {
			if in.State == keys.StateExpired && !all {
				continue
			}
			views = append(views, keyView{
				KID: in.ID, Alg: in.Algorithm, State: in.State, CreatedAt: in.CreatedAt,
				ActiveAt: in.ActiveAt, RetiredAt: in.RetiredAt, ExpiresAt: in.ExpiresAt,
			})
		}
		if asJSON {
			return writeJSON(env.stdout, views)
		}
		t := newTable(env.stdout, "KID", "ALG", "STATE", "CREATED", "ACTIVE_FROM", "RETIRED", "EXPIRES")
		for _, v := range views {
			t.row(v.KID, v.Alg, v.State, fmtTimestamp(v.CreatedAt), fmtTimestamp(v.ActiveAt), fmtOptTimestamp(v.RetiredAt), fmtOptTimestamp(v.ExpiresAt))
		}
		if err := t.flush(); err != nil {
			return err
		}
		if !slices.ContainsFunc(views, func(v keyView) bool { return v.State == keys.StateSigning }) {
			fmt.Fprintln(env.stderr, "No key signs now: tno serve creates one at start, or run tno keys rotate.")
		}
		return nil
	})
}

func fmtOptTimestamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTimestamp(*t)
}

const keysRotateHelp = `
Creates a signing key, published in the JWKS at once and used to sign from
now + --publish-delay; the current keys stop signing at that moment and stay
published for --keep more, so that the tokens they signed still verify.

--publish-delay should exceed the time relying parties cache the JWKS, so
that they know the new key before it signs. It is ignored when no key signs
now (a new installation): the new key then signs at once.
--keep should exceed the lifetime of the tokens (tokens.id_token,
tokens.access_token); it must be at least that.

Running servers pick up the new key within a minute. --algorithm sets the
new key's algorithm (default signing.algorithm); set signing.algorithm too,
or the keys created later, should every key expire, use the old one.`

func keysRotate(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var delay, keep time.Duration
	var alg string
	fs := newFlagSet(env, "keys rotate", "[--publish-delay 10m] [--keep 24h] [--algorithm RS256|ES256]", &cf)
	fs.DurationVar(&delay, "publish-delay", defaultPublishDelay, "time between the publication of the new key and its first signature, so relying parties caching the JWKS see the new key before it signs")
	fs.DurationVar(&keep, "keep", defaultKeep, "time the retired keys stay published after the new key takes over: longer than the longest ID token or access token lifetime")
	fs.StringVar(&alg, "algorithm", "", "algorithm of the new key, RS256 or ES256 (default signing.algorithm)")
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: tno keys rotate [--publish-delay 10m] [--keep 24h] [--algorithm RS256|ES256]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintln(env.stderr, keysRotateHelp)
	}
	if stop, err := parse(fs, args); stop {
		return err
	}
	if delay < 0 || keep < 0 {
		return fmt.Errorf("--publish-delay and --keep must not be negative")
	}
	return withStore(ctx, env, &cf, func(st storage.Store, cfg config.Config) error {
		if alg == "" {
			alg = cfg.Signing.Algorithm
		}
		if alg != keys.RS256 && alg != keys.ES256 {
			return fmt.Errorf("--algorithm: %q is not one of %s, %s", alg, keys.RS256, keys.ES256)
		}
		longest := max(cfg.Tokens.IDToken.Std(), cfg.Tokens.AccessToken.Std())
		if keep < longest {
			return fmt.Errorf("--keep %v is shorter than the token lifetime %v (tokens.id_token, tokens.access_token): tokens signed by the retired key would stop verifying before they expire", keep, longest)
		}
		m, err := newKeyManager(st, alg)
		if err != nil {
			return err
		}
		before, err := m.List(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(before, func(in keys.Info) bool { return in.State == keys.StateSigning }) {
			if delay != 0 {
				fmt.Fprintln(env.stderr, "No key signs now: the new key signs at once (--publish-delay ignored).")
			}
			delay = 0
		}
		if err := m.Rotate(ctx, delay, keep); err != nil {
			return err
		}
		after, err := m.List(ctx)
		if err != nil {
			return err
		}
		old := make(map[string]keys.Info, len(before))
		for _, in := range before {
			old[in.ID] = in
		}
		for _, in := range after {
			prev, existed := old[in.ID]
			switch {
			case !existed:
				fmt.Fprintf(env.stdout, "created key %s (%s): published now, signs from %s\n", in.ID, in.Algorithm, fmtTimestamp(in.ActiveAt))
			case in.RetiredAt != nil && !sameTime(prev.RetiredAt, in.RetiredAt):
				fmt.Fprintf(env.stdout, "retiring key %s (%s): signs until %s, published until %s\n",
					in.ID, in.Algorithm, fmtTimestamp(*in.RetiredAt), fmtOptTimestamp(in.ExpiresAt))
			}
		}
		return nil
	})
}
