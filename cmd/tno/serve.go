package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/server"
)

// errUsage means the flag package already printed the problem.
var errUsage = errors.New("usage")

// commonFlags are the configuration flags every subcommand accepts.
type commonFlags struct {
	configPath string
	over       config.Overrides
}

func (c *commonFlags) register(fs *flag.FlagSet, withServe bool) {
	fs.StringVar(&c.configPath, "config", "", "YAML configuration file (also TNO_CONFIG)")
	fs.StringVar(&c.over.DataDir, "data-dir", "", "data directory (default tno-data)")
	fs.StringVar(&c.over.DatabaseDSN, "database-dsn", "", "database DSN (SQLite path or PostgreSQL URL)")
	if withServe {
		fs.StringVar(&c.over.Issuer, "issuer", "", "issuer URL (default http://127.0.0.1:8080)")
		fs.StringVar(&c.over.Listen, "listen", "", "listen address (default 127.0.0.1:8080)")
	}
}

// load reads the configuration: defaults, file, environment, flags.
func (c *commonFlags) load(env *cliEnv) (config.Config, error) {
	path := c.configPath
	if path == "" {
		path = lookupEnv(env.environ, "TNO_CONFIG")
	}
	return config.LoadWithOverrides(path, env.environ, c.over)
}

func lookupEnv(environ []string, key string) string {
	for _, kv := range environ {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			return kv[len(key)+1:]
		}
	}
	return ""
}

func newLogger(cfg config.Config, env *cliEnv) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(env.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.stderr, opts))
}

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := flag.NewFlagSet("tno serve", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf commonFlags
	cf.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := cf.load(env)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := newLogger(cfg, env)
	if cfg.Database.Driver == config.DriverSQLite {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	}
	store, err := server.OpenStore(ctx, cfg.Database)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer store.Close()
	srv, err := server.New(server.Options{Config: cfg, Store: store, Logger: logger})
	if err != nil {
		return err
	}
	boot, err := srv.Bootstrap(ctx)
	if err != nil {
		return err
	}
	if boot.KeyCreated {
		logger.Info("created a signing key")
	}
	if boot.AdminPassword != "" {
		fmt.Fprintf(env.stdout, "\nFirst platform administrator created.\n  identifier: %s\n  password:   %s\nThis password is shown once and is not stored in clear: write it down now.\n\n", boot.AdminUsername, boot.AdminPassword)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(env.stdout, "TNO is listening on http://%s\nIssuer: %s\nDiscovery: %s/.well-known/openid-configuration\n", ln.Addr(), cfg.Issuer, cfg.Issuer)
	go srv.RunJanitor(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return hs.Shutdown(shutCtx)
}
