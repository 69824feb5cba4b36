package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeFile writes content to name in a fresh temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// want returns Default() with the SQLite path filled, as Load returns it,
// changed by edit.
func want(edit func(*Config)) Config {
	c := Default()
	c.Database.DSN = filepath.Join("tno-data", "tno.db")
	if edit != nil {
		edit(&c)
	}
	return c
}

func TestDefaultValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	got, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load(\"\", nil) = %v", err)
	}
	if diff := cmp.Diff(want(nil), got); diff != "" {
		t.Errorf("Load(\"\", nil) mismatch (-want +got):\n%s", diff)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		yaml string // written to config.yaml; "" means no file
		env  []string
		want Config
	}{
		{
			name: "empty file keeps defaults",
			yaml: "# nothing here\n",
			want: want(nil),
		},
		{
			name: "null sections and values keep defaults",
			yaml: "database:\nlog:\n  level:\n",
			want: want(nil),
		},
		{
			name: "file values",
			yaml: `
issuer: https://sso.territoire.example/
listen: ":9000"
data_dir: /var/lib/tno
database:
  driver: postgres
  dsn: postgres://tno@db/tno
log: {level: debug, format: json}
session:
  lifetime: 8h
  idle_timeout: 30m
tokens:
  access_token: 5m
  id_token: 2m
  authorization_code: 30s
signing:
  algorithm: ES256
password:
  memory_kib: 19456
  iterations: 2
  parallelism: 1
  max_concurrent: 8
territory:
  name: Syndicat numérique du Val
  support: "Support : 01 23 45 67 89"
  support_url: https://support.syndicat-val.fr
  legal_notice_url: https://www.syndicat-val.fr/mentions-legales
  accessibility_status: partial
`,
			want: Config{
				Issuer:   "https://sso.territoire.example",
				Listen:   ":9000",
				DataDir:  "/var/lib/tno",
				Database: Database{Driver: "postgres", DSN: "postgres://tno@db/tno"},
				Log:      Log{Level: "debug", Format: "json"},
				Session:  Session{Lifetime: Duration(8 * time.Hour), IdleTimeout: Duration(30 * time.Minute)},
				Tokens: Tokens{
					AccessToken:       Duration(5 * time.Minute),
					IDToken:           Duration(2 * time.Minute),
					AuthorizationCode: Duration(30 * time.Second),
					RefreshToken:      Duration(30 * 24 * time.Hour),
					RefreshFamily:     Duration(30 * 24 * time.Hour),
				},
				Signing:  Signing{Algorithm: "ES256"},
				Password: Password{MemoryKiB: 19456, Iterations: 2, Parallelism: 1, MaxConcurrent: 8},
				Territory: Territory{Name: "Syndicat numérique du Val", Support: "Support : 01 23 45 67 89",
					SupportURL: "https://support.syndicat-val.fr", LegalNoticeURL: "https://www.syndicat-val.fr/mentions-legales",
					AccessibilityStatus: AccessibilityPartial},
			},
		},
		{
			name: "environment overrides file, file overrides defaults",
			yaml: "issuer: https://sso.example.fr\nlisten: 127.0.0.1:7000\nsession:\n  lifetime: 12h\n",
			env: []string{
				"PATH=/usr/bin",
				"TNO_LISTEN=127.0.0.1:7001",
				"TNO_SESSION_IDLE_TIMEOUT=1h",
				"TNO_PASSWORD_PARALLELISM=2",
				"TNO_LOG_LEVEL=", // empty: ignored
				"TNO_CONFIG=/etc/tno/tno.yaml",
				"TNO_TEST_POSTGRES_DSN=postgres://x",
			},
			want: want(func(c *Config) {
				c.Issuer = "https://sso.example.fr"
				c.Listen = "127.0.0.1:7001"
				c.Session.Lifetime = Duration(12 * time.Hour)
				c.Session.IdleTimeout = Duration(time.Hour)
				c.Password.Parallelism = 2
			}),
		},
		{
			name: "every variable without a file",
			env: []string{
				"TNO_ISSUER=https://sso.example.fr/tno/",
				"TNO_LISTEN=0.0.0.0:8443",
				"TNO_DATA_DIR=/srv/tno",
				"TNO_DATABASE_DRIVER=postgres",
				"TNO_DATABASE_DSN=postgres://tno@127.0.0.1/tno",
				"TNO_LOG_LEVEL=warn",
				"TNO_LOG_FORMAT=json",
				"TNO_SESSION_LIFETIME=9h",
				"TNO_SESSION_IDLE_TIMEOUT=90m",
				"TNO_TOKENS_ACCESS_TOKEN=15m",
				"TNO_TOKENS_ID_TOKEN=5m",
				"TNO_TOKENS_AUTHORIZATION_CODE=45s",
				"TNO_SIGNING_ALGORITHM=ES256",
				"TNO_PASSWORD_MEMORY_KIB=131072",
				"TNO_PASSWORD_ITERATIONS=4",
				"TNO_PASSWORD_PARALLELISM=8",
				"TNO_PASSWORD_MAX_CONCURRENT=3",
				"TNO_TERRITORY_NAME=Métropole Exemple",
				"TNO_TERRITORY_ACCESSIBILITY_STATUS=full",
				"TNO_MAIL_HOST=smtp.example.fr",
				"TNO_MAIL_PORT=465",
				"TNO_MAIL_SECURITY=tls",
				"TNO_MAIL_USERNAME=tno",
				"TNO_MAIL_FROM=Métropole Exemple <no-reply@example.fr>",
				"TNO_MAIL_HELO_NAME=sso.example.fr",
			},
			want: Config{
				Issuer:   "https://sso.example.fr/tno",
				Listen:   "0.0.0.0:8443",
				DataDir:  "/srv/tno",
				Database: Database{Driver: "postgres", DSN: "postgres://tno@127.0.0.1/tno"},
				Log:      Log{Level: "warn", Format: "json"},
				Session:  Session{Lifetime: Duration(9 * time.Hour), IdleTimeout: Duration(90 * time.Minute)},
				Tokens: Tokens{
					AccessToken:       Duration(15 * time.Minute),
					IDToken:           Duration(5 * time.Minute),
					AuthorizationCode: Duration(45 * time.Second),
					RefreshToken:      Duration(30 * 24 * time.Hour),
					RefreshFamily:     Duration(30 * 24 * time.Hour),
				},
				Signing:   Signing{Algorithm: "ES256"},
				Password:  Password{MemoryKiB: 131072, Iterations: 4, Parallelism: 8, MaxConcurrent: 3},
				Territory: Territory{Name: "Métropole Exemple", AccessibilityStatus: AccessibilityFull},
				Mail: Mail{Host: "smtp.example.fr", Port: 465, Security: MailTLS, Username: "tno",
					From: "Métropole Exemple <no-reply@example.fr>", HeloName: "sso.example.fr"},
			},
		},
		{
			name: "last duplicate variable wins",
			env:  []string{"TNO_LISTEN=127.0.0.1:1", "TNO_LISTEN=127.0.0.1:2"},
			want: want(func(c *Config) { c.Listen, c.Issuer = "127.0.0.1:2", "http://127.0.0.1:2" }),
		},
		{
			name: "sqlite default path follows data_dir",
			yaml: "data_dir: /var/lib/tno\n",
			want: want(func(c *Config) {
				c.DataDir = "/var/lib/tno"
				c.Database.DSN = filepath.Join("/var/lib/tno", "tno.db")
			}),
		},
		{
			name: "explicit sqlite path kept",
			yaml: "database:\n  dsn: /tmp/other.db\n",
			want: want(func(c *Config) { c.Database.DSN = "/tmp/other.db" }),
		},
		{
			name: "aliases resolved",
			yaml: "session:\n  lifetime: &ttl 20m\n  idle_timeout: *ttl\n",
			want: want(func(c *Config) {
				c.Session.Lifetime = Duration(20 * time.Minute)
				c.Session.IdleTimeout = Duration(20 * time.Minute)
			}),
		},
		{
			name: "issuer trailing slashes removed",
			yaml: "issuer: http://localhost:8080//\n",
			want: want(func(c *Config) { c.Issuer = "http://localhost:8080" }),
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "config.yaml", tt.yaml)
			}
			got, err := Load(path, tt.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDSNFile(t *testing.T) {
	dsn := "postgres://tno:s3cret@127.0.0.1:5432/tno?sslmode=disable"
	tests := []struct {
		name    string
		content string
	}{
		{"trailing newline", dsn + "\n"},
		{"surrounding white space", "  \t" + dsn + "\r\n\n"},
		{"exact", dsn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := writeFile(t, "dsn", tt.content)
			cfg := writeFile(t, "config.yaml", "database:\n  driver: postgres\n  dsn_file: "+secret+"\n")
			got, err := Load(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Database.DSN != dsn {
				t.Errorf("DSN = %q, want %q", got.Database.DSN, dsn)
			}
		})
	}

	t.Run("from environment", func(t *testing.T) {
		secret := writeFile(t, "dsn", dsn+"\n")
		got, err := Load("", []string{"TNO_DATABASE_DRIVER=postgres", "TNO_DATABASE_DSN_FILE=" + secret})
		if err != nil {
			t.Fatal(err)
		}
		if got.Database.DSN != dsn || got.Database.DSNFile != secret {
			t.Errorf("Database = %+v, want DSN %q read from %s", got.Database, dsn, secret)
		}
	})

	t.Run("empty file", func(t *testing.T) {
		secret := writeFile(t, "dsn", " \n")
		_, err := Load("", []string{"TNO_DATABASE_DRIVER=postgres", "TNO_DATABASE_DSN_FILE=" + secret})
		if err == nil || !strings.Contains(err.Error(), "is empty") {
			t.Errorf("Load error = %v, want one saying the file is empty", err)
		}
	})
}

func TestOverride(t *testing.T) {
	tests := []struct {
		name string
		base func(*Config)
		o    Overrides
		want func(*Config)
	}{
		{
			name: "nothing",
			want: func(*Config) {},
		},
		{
			name: "every value",
			o: Overrides{
				Issuer:      "https://sso.example.fr/",
				Listen:      ":8443",
				DataDir:     "/srv/tno",
				DatabaseDSN: "/srv/tno/other.db",
			},
			want: func(c *Config) {
				c.Issuer = "https://sso.example.fr"
				c.Listen = ":8443"
				c.DataDir = "/srv/tno"
				c.Database.DSN = "/srv/tno/other.db"
			},
		},
		{
			name: "default sqlite path follows data dir",
			o:    Overrides{DataDir: "/srv/tno"},
			want: func(c *Config) {
				c.DataDir = "/srv/tno"
				c.Database.DSN = filepath.Join("/srv/tno", "tno.db")
			},
		},
		{
			name: "explicit sqlite path stays",
			base: func(c *Config) { c.Database.DSN = "/var/db/tno.db" },
			o:    Overrides{DataDir: "/srv/tno"},
			want: func(c *Config) {
				c.DataDir = "/srv/tno"
				c.Database.DSN = "/var/db/tno.db"
			},
		},
		{
			name: "dsn replaces dsn_file",
			base: func(c *Config) {
				c.Database = Database{Driver: DriverPostgres, DSN: "postgres://a", DSNFile: "/run/secrets/dsn"}
			},
			o: Overrides{DatabaseDSN: "postgres://b"},
			want: func(c *Config) {
				c.Database = Database{Driver: DriverPostgres, DSN: "postgres://b"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := want(tt.base)
			if err := c.Override(tt.o); err != nil {
				t.Fatalf("Override: %v", err)
			}
			w := want(tt.base)
			tt.want(&w)
			if diff := cmp.Diff(w, c); diff != "" {
				t.Errorf("Override mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("invalid leaves config unchanged", func(t *testing.T) {
		c := want(nil)
		err := c.Override(Overrides{Issuer: "http://sso.example.fr", Listen: "nope"})
		if err == nil {
			t.Fatal("Override succeeded, want an error")
		}
		for _, w := range []string{"issuer: ", "listen: "} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q: %v", w, err)
			}
		}
		if diff := cmp.Diff(want(nil), c); diff != "" {
			t.Errorf("config changed (-want +got):\n%s", diff)
		}
	})
}

func TestLoadWithOverrides(t *testing.T) {
	t.Run("flag supplies the postgres dsn", func(t *testing.T) {
		env := []string{"TNO_DATABASE_DRIVER=postgres"}
		if _, err := Load("", env); err == nil {
			t.Fatal("Load without a DSN succeeded, want an error")
		}
		got, err := LoadWithOverrides("", env, Overrides{DatabaseDSN: "postgres://tno@127.0.0.1/tno"})
		if err != nil {
			t.Fatal(err)
		}
		if want := (Database{Driver: DriverPostgres, DSN: "postgres://tno@127.0.0.1/tno"}); got.Database != want {
			t.Errorf("Database = %+v, want %+v", got.Database, want)
		}
	})
	t.Run("flag dsn wins over the file's dsn_file", func(t *testing.T) {
		cfg := writeFile(t, "config.yaml", "database:\n  driver: postgres\n  dsn_file: /nonexistent/dsn\n")
		got, err := LoadWithOverrides(cfg, nil, Overrides{DatabaseDSN: "postgres://b"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Database.DSN != "postgres://b" || got.Database.DSNFile != "" {
			t.Errorf("Database = %+v", got.Database)
		}
	})
	t.Run("flags beat environment", func(t *testing.T) {
		env := []string{"TNO_ISSUER=https://env.example.fr", "TNO_DATA_DIR=/env"}
		got, err := LoadWithOverrides("", env, Overrides{Issuer: "https://flag.example.fr/", DataDir: "/flag"})
		if err != nil {
			t.Fatal(err)
		}
		w := want(func(c *Config) {
			c.Issuer = "https://flag.example.fr"
			c.DataDir = "/flag"
			c.Database.DSN = filepath.Join("/flag", "tno.db")
		})
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestCheckIssuer(t *testing.T) {
	tests := []struct {
		issuer string
		ok     bool
	}{
		{"https://sso.example.fr", true},
		{"https://sso.example.fr:8443/tno", true},
		{"http://localhost:8080", true},
		{"http://127.0.0.1", true},
		{"http://[::1]:8080", true},
		{"http://localhost.example.fr", false},
		{"http://10.0.0.1", false},
		{"ftp://sso.example.fr", false},
		{"sso.example.fr", false},
		{"/tno", false},
		{"https://sso.example.fr?x=1", false},
		{"https://sso.example.fr?", false},
		{"https://sso.example.fr#", false},
		{"https://sso.example.fr:0", false},
		{"https://sso.example.fr:99999", false},
		{"https:sso.example.fr", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			err := checkIssuer(tt.issuer)
			if (err == nil) != tt.ok {
				t.Errorf("checkIssuer(%q) = %v, want ok=%v", tt.issuer, err, tt.ok)
			}
		})
	}
}

// TestLeavesSettable checks that every Config field is reachable from the
// environment and parses a value of its type, so a field added later with
// an unsupported type fails here rather than at run time.
func TestLeavesSettable(t *testing.T) {
	ls := leaves()
	if len(ls) != 36 {
		t.Errorf("Config has %d settable values, want 36 (update this test and the docs when adding one)", len(ls))
	}
	samples := map[reflect.Kind]string{
		reflect.String: "x", reflect.Int: "1", reflect.Int64: "1s",
		reflect.Uint8: "1", reflect.Uint32: "1",
	}
	var c Config
	root := reflect.ValueOf(&c).Elem()
	for _, l := range ls {
		v := root.FieldByIndex(l.index)
		s, ok := samples[v.Kind()]
		if !ok {
			t.Errorf("%s: no sample for kind %s", l.key, v.Kind())
			continue
		}
		if err := setScalar(v, s); err != nil {
			t.Errorf("%s: setScalar(%q): %v", l.key, s, err)
		}
		if want := "TNO_" + strings.ToUpper(strings.ReplaceAll(l.key, ".", "_")); l.env != want {
			t.Errorf("%s: env %s, want %s", l.key, l.env, want)
		}
	}
	if got := EnvVars(); len(got) != len(ls) || got[0] != (EnvVar{Name: "TNO_ISSUER", Key: "issuer"}) {
		t.Errorf("EnvVars() = %v", got)
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1h30m")); err != nil {
		t.Fatal(err)
	}
	if d.Std() != 90*time.Minute {
		t.Errorf("d = %v, want 1h30m", d.Std())
	}
	b, _ := d.MarshalText()
	if string(b) != "1h30m0s" {
		t.Errorf("MarshalText = %q", b)
	}
	if err := d.UnmarshalText([]byte("10")); err == nil {
		t.Error("UnmarshalText(\"10\") succeeded, want an error")
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.2 ,::1, 2001:db8::/32,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.2/32", "::1/128", "2001:db8::/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("item %d = %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.fr", "10.0.0.1-10.0.0.9"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) succeeded", bad)
		}
	}
	c := Default()
	c.TrustedProxies = "not-an-address"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "trusted_proxies") {
		t.Errorf("Validate = %v, want a trusted_proxies error", err)
	}
}

// TestNewUserOverrides: what a new user types on the command line works
// as they mean it: a PostgreSQL URL alone selects PostgreSQL; --listen
// alone on this machine moves the default issuer with it.
func TestNewUserOverrides(t *testing.T) {
	c, err := LoadWithOverrides("", nil, Overrides{DatabaseDSN: "postgres://tno@db.exemple.fr/tno?sslmode=verify-full"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Driver != DriverPostgres || c.Database.DSN != "postgres://tno@db.exemple.fr/tno?sslmode=verify-full" {
		t.Errorf("a postgres:// DSN alone: driver %q, DSN %q", c.Database.Driver, c.Database.DSN)
	}
	if c, err = LoadWithOverrides("", []string{"TNO_DATABASE_DSN=postgresql://tno@127.0.0.1/tno"}, Overrides{}); err != nil || c.Database.Driver != DriverPostgres {
		t.Errorf("TNO_DATABASE_DSN=postgresql://…: driver %q, %v", c.Database.Driver, err)
	}
	for listen, issuer := range map[string]string{
		"127.0.0.1:46030": "http://127.0.0.1:46030",
		":9000":           "http://127.0.0.1:9000",
		"localhost:8081":  "http://localhost:8081",
		"[::1]:8082":      "http://[::1]:8082",
		"127.0.0.1:8080":  "http://127.0.0.1:8080",
	} {
		c, err := LoadWithOverrides("", nil, Overrides{Listen: listen})
		if err != nil {
			t.Errorf("--listen %s: %v", listen, err)
			continue
		}
		if c.Issuer != issuer {
			t.Errorf("--listen %s: issuer %q, want %q", listen, c.Issuer, issuer)
		}
	}
	// An issuer given is kept, whatever the listen address.
	c, err = LoadWithOverrides("", nil, Overrides{Listen: "127.0.0.1:46030", Issuer: "http://127.0.0.1:8443"})
	if err != nil || c.Issuer != "http://127.0.0.1:8443" {
		t.Errorf("explicit issuer: %q, %v", c.Issuer, err)
	}
	// Override (serve's second pass) derives the same way.
	d, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Override(Overrides{Listen: "127.0.0.1:46031"}); err != nil || d.Issuer != "http://127.0.0.1:46031" {
		t.Errorf("Override --listen: issuer %q, %v", d.Issuer, err)
	}
}
