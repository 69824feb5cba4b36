package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is TNO's whole configuration. The yaml tags are the file's keys;
// the environment variables are derived from them (see the package doc).
type Config struct {
	// Issuer is the OpenID issuer URL: absolute http(s), no query or
	// fragment, https unless the host is a loopback name or address. A
	// trailing slash is removed.
	Issuer string `yaml:"issuer"`
	// Listen is the host:port the HTTP server listens on.
	Listen string `yaml:"listen"`
	// TrustedProxies lists, comma-separated, the addresses or CIDR
	// ranges of the reverse proxies in front of TNO: a request from one
	// of them is taken to come from the address its X-Forwarded-For
	// names (the last one not itself a trusted proxy), for the
	// per-address limits and the audit log. Empty: no proxy is trusted
	// and X-Forwarded-For is ignored.
	TrustedProxies string `yaml:"trusted_proxies"`
	// DataDir holds TNO's files (the SQLite database by default). A
	// relative path is relative to the working directory.
	DataDir  string   `yaml:"data_dir"`
	Database Database `yaml:"database"`
	Log      Log      `yaml:"log"`
	Session  Session  `yaml:"session"`
	Tokens   Tokens   `yaml:"tokens"`
	Signing  Signing  `yaml:"signing"`
	Password Password `yaml:"password"`
	// Territory presents the sign-in pages (name, logo, help, footer).
	Territory Territory `yaml:"territory"`
	// Mail is the server TNO sends e-mail through; none if mail.host is
	// empty.
	Mail Mail `yaml:"mail"`
}

// Database selects the storage engine.
type Database struct {
	// Driver is DriverSQLite (default) or DriverPostgres.
	Driver string `yaml:"driver"`
	// DSN is, for SQLite, the database file path (default
	// <data_dir>/tno.db); for PostgreSQL, a connection string (required).
	DSN string `yaml:"dsn"`
	// DSNFile names a file holding the DSN (a secret). Load reads it into
	// DSN, trimmed of surrounding white space. Exclusive with DSN.
	DSNFile string `yaml:"dsn_file"`
}

// Database drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn or error
	Format string `yaml:"format"` // text (default) or json
}

// Session configures SSO sessions.
type Session struct {
	// Lifetime is the longest a session lasts, active or not.
	Lifetime Duration `yaml:"lifetime"`
	// IdleTimeout ends a session unused for that long; at most Lifetime.
	IdleTimeout Duration `yaml:"idle_timeout"`
}

// Tokens sets the lifetimes of what the OpenID provider issues.
type Tokens struct {
	AccessToken Duration `yaml:"access_token"`
	IDToken     Duration `yaml:"id_token"`
	// AuthorizationCode is at most 10 minutes (RFC 6749 section 4.1.2).
	AuthorizationCode Duration `yaml:"authorization_code"`
	// RefreshToken is how long each refresh token may be used (each use
	// rotates it); RefreshFamily caps a chain of them, counted from the
	// sign-in: after it the person signs in again.
	RefreshToken  Duration `yaml:"refresh_token"`
	RefreshFamily Duration `yaml:"refresh_family"`
}

// Signing configures the keys that sign ID tokens and other JWTs.
type Signing struct {
	// Algorithm of new signing keys: SigningRS256 (default) or
	// SigningES256. Existing keys keep theirs: a change takes effect at
	// the next rotation (tno keys rotate).
	Algorithm string `yaml:"algorithm"`
}

// Signing algorithms.
const (
	SigningRS256 = "RS256"
	SigningES256 = "ES256"
)

// Password sets the argon2id parameters for local accounts and bounds the
// number of hashes computed at once (each one takes MemoryKiB of memory).
type Password struct {
	MemoryKiB   uint32 `yaml:"memory_kib"`
	Iterations  uint32 `yaml:"iterations"`
	Parallelism uint8  `yaml:"parallelism"`
	// MaxConcurrent bounds concurrent hashes; 0 means the number of CPUs.
	MaxConcurrent int `yaml:"max_concurrent"`
}

// Default returns the configuration used when nothing overrides it: a
// development instance on 127.0.0.1:8080 with SQLite under ./tno-data.
// Database.DSN is left empty here; Load fills the SQLite default.
func Default() Config {
	return Config{
		Issuer:   "http://127.0.0.1:8080",
		Listen:   "127.0.0.1:8080",
		DataDir:  "tno-data",
		Database: Database{Driver: DriverSQLite},
		Log:      Log{Level: "info", Format: "text"},
		Session: Session{
			Lifetime:    Duration(10 * time.Hour),
			IdleTimeout: Duration(2 * time.Hour),
		},
		Tokens: Tokens{
			AccessToken:       Duration(10 * time.Minute),
			IDToken:           Duration(10 * time.Minute),
			AuthorizationCode: Duration(60 * time.Second),
			RefreshToken:      Duration(30 * 24 * time.Hour),
			RefreshFamily:     Duration(30 * 24 * time.Hour),
		},
		Signing: Signing{Algorithm: SigningRS256},
		// RFC 9106 second recommended option.
		Password:  Password{MemoryKiB: 64 * 1024, Iterations: 3, Parallelism: 4},
		Territory: Territory{AccessibilityStatus: AccessibilityNon},
	}
}

// Load builds the configuration: the defaults, then the YAML file at path
// (skipped if path is empty), then the TNO_* variables of environ (in
// os.Environ form; a variable set to the empty string is ignored), then
// validation. It reports every problem at once. The returned Config has
// Database.DSN resolved: dsn_file read, SQLite default path filled in;
// and Mail.Password read from mail.password_file.
// On error the returned Config is the zero value.
func Load(path string, environ []string) (Config, error) {
	return LoadWithOverrides(path, environ, Overrides{})
}

// LoadWithOverrides is Load with command-line values applied after the
// environment and before validation, so that a flag can supply what the
// file lacks (tno serve --database-dsn with TNO_DATABASE_DRIVER=postgres)
// or correct what it has wrong.
func LoadWithOverrides(path string, environ []string, o Overrides) (Config, error) {
	c := Default()
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("config file: %w", err))
		} else {
			errs = append(errs, decodeYAML(&c, path, data)...)
		}
	}
	errs = append(errs, applyEnv(&c, environ)...)
	o.apply(&c)
	c.deriveIssuer()
	errs = append(errs, c.resolve()...)
	errs = append(errs, c.Mail.resolve()...)
	c.normalize()
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Overrides are values given on the command line (tno serve --issuer
// --listen --data-dir --database-dsn). Empty fields change nothing.
type Overrides struct {
	Issuer      string
	Listen      string
	DataDir     string
	DatabaseDSN string
}

// apply sets the non-empty values of o on an unresolved c.
func (o Overrides) apply(c *Config) {
	if o.Issuer != "" {
		c.Issuer = o.Issuer
	}
	if o.Listen != "" {
		c.Listen = o.Listen
	}
	if o.DataDir != "" {
		c.DataDir = o.DataDir
	}
	if o.DatabaseDSN != "" {
		c.Database.DSN = o.DatabaseDSN
		c.Database.DSNFile = ""
	}
}

// Override applies the non-empty values of o to a Config returned by Load,
// then validates the result; on error c is left unchanged. A DatabaseDSN
// replaces both dsn and dsn_file; a DataDir moves the SQLite database with
// it when its path was the default one. LoadWithOverrides does both steps
// at once, and also lets a flag supply a value Load would reject without.
func (c *Config) Override(o Overrides) error {
	n := *c
	if o.DataDir != "" && o.DataDir != n.DataDir && n.Database.Driver == DriverSQLite &&
		n.Database.DSNFile == "" && n.Database.DSN == defaultSQLitePath(n.DataDir) {
		n.Database.DSN = "" // the default path: resolve it again below
	}
	o.apply(&n)
	n.deriveIssuer()
	if n.Database.Driver == DriverSQLite && n.Database.DSN == "" && n.DataDir != "" {
		n.Database.DSN = defaultSQLitePath(n.DataDir)
	}
	n.normalize()
	if err := n.Validate(); err != nil {
		return err
	}
	*c = n
	return nil
}

// resolve reads dsn_file and fills the SQLite default path.
func (c *Config) resolve() []error {
	db := &c.Database
	switch {
	case db.DSNFile != "" && db.DSN != "":
		return []error{errors.New("database.dsn and database.dsn_file are both set: set only one")}
	case db.DSNFile != "":
		data, err := os.ReadFile(db.DSNFile)
		if err != nil {
			return []error{fmt.Errorf("database.dsn_file: %w", err)}
		}
		db.DSN = strings.TrimSpace(string(data))
		if db.DSN == "" {
			return []error{fmt.Errorf("database.dsn_file: %s is empty", db.DSNFile)}
		}
	case db.Driver == DriverSQLite && db.DSN == "" && c.DataDir != "":
		db.DSN = defaultSQLitePath(c.DataDir)
	}
	return nil
}

// deriveIssuer follows the listen address when the issuer was left at
// its default and TNO listens elsewhere on this machine (tno serve
// --listen 127.0.0.1:46030 alone): the default issuer would name a port
// nothing listens on. A listen address of another machine leaves the
// issuer as it is (it must then be set: an https URL).
func (c *Config) deriveIssuer() {
	d := Default()
	if c.Issuer != d.Issuer || c.Listen == d.Listen {
		return
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil || port == "" {
		return
	}
	switch {
	case host == "localhost":
	case host == "", host == "0.0.0.0", host == "::":
		host = "127.0.0.1"
	default:
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return
		}
	}
	c.Issuer = "http://" + net.JoinHostPort(host, port)
}

// normalize puts values in canonical form before validation.
func (c *Config) normalize() {
	// A PostgreSQL URL chooses its driver: without database.driver, a
	// postgres:// DSN would otherwise name a SQLite file in a folder
	// called "postgres:".
	if c.Database.Driver == DriverSQLite && isPostgresURL(c.Database.DSN) {
		c.Database.Driver = DriverPostgres
	}
	// Keep at least "scheme://": an issuer of only slashes is reported
	// by Validate as written.
	if i := strings.Index(c.Issuer, "://"); i >= 0 {
		for len(c.Issuer) > i+3 && strings.HasSuffix(c.Issuer, "/") {
			c.Issuer = strings.TrimSuffix(c.Issuer, "/")
		}
	}
}

// isPostgresURL reports whether dsn is a PostgreSQL connection URL.
func isPostgresURL(dsn string) bool {
	d := strings.ToLower(strings.TrimSpace(dsn))
	return strings.HasPrefix(d, "postgres://") || strings.HasPrefix(d, "postgresql://")
}

func defaultSQLitePath(dataDir string) string {
	return filepath.Join(dataDir, "tno.db")
}
