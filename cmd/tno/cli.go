package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/territoires-ouverts/tno/internal/authz"
	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/directory/local"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
)

// subcommand is one verb of an administration command (tno org create).
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// dispatch runs the subcommand named by args[0], or prints the verbs of
// the command.
func dispatch(ctx context.Context, env *cliEnv, cmd string, subs []subcommand, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		subUsage(env.stderr, cmd, subs)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			if err := s.run(ctx, env, args[1:]); err != nil {
				if err == errUsage {
					return err
				}
				return fmt.Errorf("%s: %w", s.name, err)
			}
			return nil
		}
	}
	fmt.Fprintf(env.stderr, "tno %s: unknown subcommand %q\n\n", cmd, args[0])
	subUsage(env.stderr, cmd, subs)
	return errUsage
}

func subUsage(w io.Writer, cmd string, subs []subcommand) {
	fmt.Fprintf(w, "Usage: tno %s <subcommand> [flags]\n\nSubcommands:\n", cmd)
	for _, s := range subs {
		fmt.Fprintf(w, "  %-14s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nRun 'tno %s <subcommand> -h' for its flags.\n", cmd)
}

// newFlagSet returns a flag set for "tno <cmd> <sub>" printing to
// stderr, with the configuration flags registered on cf.
func newFlagSet(env *cliEnv, name, synopsis string, cf *commonFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("tno "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: tno %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	cf.register(fs, false)
	return fs
}

// parse parses args, refusing positional arguments. stop tells the
// caller to return err: nil after -h (usage printed), errUsage after any
// other problem (already reported on stderr).
func parse(fs *flag.FlagSet, args []string) (stop bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return true, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return true, errUsage
	}
	return false, nil
}

// required reports the required flags that were left empty.
func required(fs *flag.FlagSet, names ...string) error {
	var missing []string
	for _, n := range names {
		if f := fs.Lookup(n); f != nil && f.Value.String() == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(fs.Output(), "%s: missing required flag %s\n", fs.Name(), strings.Join(missing, ", "))
	fs.Usage()
	return errUsage
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// openStore loads the configuration and opens the database, creating
// the data directory for SQLite. The caller closes the store.
func openStore(ctx context.Context, env *cliEnv, cf *commonFlags) (storage.Store, config.Config, error) {
	cfg, err := cf.load(env)
	if err != nil {
		return nil, cfg, fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.Database.Driver == config.DriverSQLite {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, cfg, fmt.Errorf("data directory: %w", err)
		}
	}
	store, err := server.OpenStore(ctx, cfg.Database)
	if err != nil {
		return nil, cfg, fmt.Errorf("database: %w", err)
	}
	return store, cfg, nil
}

// withStore opens the store, runs fn and closes the store.
func withStore(ctx context.Context, env *cliEnv, cf *commonFlags, fn func(store storage.Store, cfg config.Config) error) (err error) {
	store, cfg, err := openStore(ctx, env, cf)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	return fn(store, cfg)
}

// cliActor is the acting party of every command: the operator on the server.
var cliActor = authz.CLI()

// withCore opens the store, builds the services every front end shares
// (server.NewCore: the same wiring as tno serve), runs fn and closes the
// store.
func withCore(ctx context.Context, env *cliEnv, cf *commonFlags, fn func(core *server.Core, st storage.Store, cfg config.Config) error) error {
	return withStore(ctx, env, cf, func(st storage.Store, cfg config.Config) error {
		if _, err := hasherParams(cfg); err != nil {
			return err
		}
		core, err := server.NewCore(server.CoreOptions{Config: cfg, Store: st})
		if err != nil {
			return err
		}
		return fn(core, st, cfg)
	})
}

// hasherParams maps the configuration onto argon2id parameters.
func hasherParams(cfg config.Config) (local.Params, error) {
	p := local.Params{
		Memory:      cfg.Password.MemoryKiB,
		Iterations:  cfg.Password.Iterations,
		Parallelism: cfg.Password.Parallelism,
		SaltLen:     16,
		KeyLen:      32,
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("password hashing parameters: %w", err)
	}
	return p, nil
}

// newLocal returns the local-account service on st (a store or a
// transaction). It computes one hash, so build it only when needed.
func newLocal(cfg config.Config, st storage.Store) (*local.Local, error) {
	p, err := hasherParams(cfg)
	if err != nil {
		return nil, err
	}
	return local.New(local.Options{People: st, Credentials: st, Hasher: local.NewHasher(p, cfg.Password.MaxConcurrent)})
}

// readPasswordLine reads one line from r, without its line ending.
func readPasswordLine(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("--password-stdin: no standard input")
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("--password-stdin: standard input is empty")
		}
		return "", fmt.Errorf("--password-stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("--password-stdin: the password is empty")
	}
	return line, nil
}

// passwordFlags are --password-stdin and --generate-password.
type passwordFlags struct {
	stdin, generate bool
}

func (p *passwordFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&p.stdin, "password-stdin", false, "read the password from the first line of standard input")
	fs.BoolVar(&p.generate, "generate-password", false, "generate a random password and print it once")
}

// password returns the password asked for ("" when neither flag is set),
// checked against the policy, and whether it was generated.
func (p *passwordFlags) password(env *cliEnv) (pw string, generated bool, err error) {
	switch {
	case p.stdin && p.generate:
		return "", false, errors.New("--password-stdin and --generate-password are exclusive")
	case p.generate:
		return server.GeneratePassword(), true, nil
	case p.stdin:
		pw, err = readPasswordLine(env.stdin)
		if err != nil {
			return "", false, err
		}
		if err := local.ValidatePassword(pw); err != nil {
			return "", false, fmt.Errorf("password refused: %w", err)
		}
		return pw, false, nil
	}
	return "", false, nil
}

func printGeneratedPassword(env *cliEnv, username, pw string) {
	fmt.Fprintf(env.stdout, "password for %s: %s\n", username, pw)
	fmt.Fprintln(env.stderr, "This password is shown once and is not stored in clear: give it to its holder now.")
}

// parseDate reads YYYY-MM-DD (midnight, local time zone) or RFC 3339.
func parseDate(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD or RFC 3339)", s)
	}
	return t, nil
}

// dateFlag parses an optional date flag: nil when empty.
func dateFlag(name, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseDate(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	return &t, nil
}
