package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLoadErrors checks that Load reports each problem, with its place,
// and all of them at once.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		missing bool // pass the path of a file that does not exist
		env     []string
		want    []string // each must appear in the error
	}{
		{
			name: "unknown key with line",
			yaml: "issuer: https://sso.example.fr\nsession:\n  lifetim: 10h\n",
			want: []string{`config.yaml:3:3: unknown key "lifetim" in session (did you mean "lifetime"?)`},
		},
		{
			name: "unknown top-level key",
			yaml: "listen: 127.0.0.1:8080\nisuer: https://x.example\n",
			want: []string{`config.yaml:2:1: unknown key "isuer" (did you mean "issuer"?)`},
		},
		{
			name: "several errors reported together",
			yaml: `issuer: ftp://sso.example.fr
colour: blue
session:
  lifetime: 10 hours
  idle_timeout: 0s
log:
  level: verbose
password:
  memory_kib: lots
  parallelism: 300
`,
			env: []string{"TNO_TOKENS_ID_TOKEN=-1m", "TNO_SESION_LIFETIME=1h"},
			want: []string{
				`config.yaml:2:1: unknown key "colour"`,
				`config.yaml:4:13: session.lifetime: invalid duration "10 hours"`,
				`config.yaml:9:15: password.memory_kib: invalid value "lots": want an integer from 0 to 4294967295`,
				`config.yaml:10:16: password.parallelism: invalid value "300": want an integer from 0 to 255`,
				`unknown environment variable TNO_SESION_LIFETIME (did you mean "TNO_SESSION_LIFETIME"?)`,
				`issuer: "ftp://sso.example.fr" must be an absolute http or https URL`,
				`log.level: "verbose" is not one of debug, info, warn, error`,
				`session.idle_timeout: must be positive, got 0s`,
				`tokens.id_token: must be positive, got -1m0s`,
			},
		},
		{
			name: "territory: every problem at once",
			yaml: `territory:
  logo_file: /nonexistent/logo.svg
  support_url: support.example.fr
  legal_notice_url: javascript:alert(1)
  accessibility_status: presque
`,
			env: []string{"TNO_TERRITORY_PERSONAL_DATA_URL=ftp://x.example.fr/donnees"},
			want: []string{
				"territory.logo_file: stat /nonexistent/logo.svg",
				`territory.support_url: "support.example.fr" must be an absolute http or https URL`,
				`territory.legal_notice_url: "javascript:alert(1)" must be an absolute http or https URL`,
				`territory.personal_data_url: "ftp://x.example.fr/donnees" must be an absolute http or https URL`,
				`territory.accessibility_status: "presque" is not one of non, partial, full`,
			},
		},
		{
			name: "territory: a logo that is neither SVG nor PNG",
			env:  []string{"TNO_TERRITORY_LOGO_FILE=/etc/hostname.gif"},
			want: []string{`territory.logo_file: "/etc/hostname.gif" must be an .svg or .png file`},
		},
		{
			name: "bad issuer: ftp scheme",
			env:  []string{"TNO_ISSUER=ftp://sso.example.fr"},
			want: []string{"issuer: ", "absolute http or https URL"},
		},
		{
			name: "bad issuer: relative",
			env:  []string{"TNO_ISSUER=/tno"},
			want: []string{"issuer: ", "absolute http or https URL"},
		},
		{
			name: "bad issuer: no host",
			env:  []string{"TNO_ISSUER=https:///path"},
			want: []string{"issuer: ", "with a host"},
		},
		{
			name: "bad issuer: http off loopback",
			env:  []string{"TNO_ISSUER=http://sso.example.fr"},
			want: []string{"issuer: ", "must use https"},
		},
		{
			name: "bad issuer: query",
			env:  []string{"TNO_ISSUER=https://sso.example.fr/?tenant=1"},
			want: []string{"issuer: ", "must not contain a query"},
		},
		{
			name: "bad issuer: fragment",
			env:  []string{"TNO_ISSUER=https://sso.example.fr/#x"},
			want: []string{"issuer: ", "must not contain a fragment"},
		},
		{
			name: "bad issuer: user info",
			env:  []string{"TNO_ISSUER=https://admin:secret@sso.example.fr"},
			want: []string{"issuer: ", "user name or password"},
		},
		{
			name: "bad issuer: empty",
			yaml: "issuer: \"\"\n",
			want: []string{"issuer: is required"},
		},
		{
			name: "postgres without dsn",
			yaml: "database:\n  driver: postgres\n",
			want: []string{"database.dsn: is required when database.driver is postgres"},
		},
		{
			name: "unknown driver",
			env:  []string{"TNO_DATABASE_DRIVER=mysql"},
			want: []string{`database.driver: "mysql" is not one of sqlite, postgres`},
		},
		{
			name: "unknown signing algorithm",
			yaml: "signing:\n  algorithm: HS256\n",
			want: []string{`signing.algorithm: "HS256" is not one of RS256, ES256`},
		},
		{
			name: "signing algorithm in lower case",
			env:  []string{"TNO_SIGNING_ALGORITHM=es256"},
			want: []string{`signing.algorithm: "es256" is not one of RS256, ES256`},
		},
		{
			name: "missing dsn_file",
			yaml: "database:\n  driver: postgres\n  dsn_file: /nonexistent/tno-dsn\n",
			want: []string{"database.dsn_file: open /nonexistent/tno-dsn"},
		},
		{
			name: "dsn and dsn_file both set",
			yaml: "database:\n  dsn: x\n  dsn_file: /nonexistent\n",
			want: []string{"database.dsn and database.dsn_file are both set"},
		},
		{
			name: "unknown TNO_ variable",
			env:  []string{"TNO_LISTEN_ADDR=:80", "TNO_DATABASE=x"},
			want: []string{
				"unknown environment variable TNO_LISTEN_ADDR",
				"unknown environment variable TNO_DATABASE",
			},
		},
		{
			name: "bad env value names variable and key",
			env:  []string{"TNO_PASSWORD_ITERATIONS=-3"},
			want: []string{`TNO_PASSWORD_ITERATIONS (password.iterations): invalid value "-3"`},
		},
		{
			name: "zero and negative durations",
			yaml: "tokens:\n  access_token: 0s\n  authorization_code: -5s\n",
			want: []string{
				"tokens.access_token: must be positive, got 0s",
				"tokens.authorization_code: must be positive, got -5s",
			},
		},
		{
			name: "duration without unit",
			yaml: "session:\n  lifetime: 36000\n",
			want: []string{`config.yaml:2:13: session.lifetime: invalid duration "36000"`},
		},
		{
			name: "idle timeout longer than lifetime",
			env:  []string{"TNO_SESSION_IDLE_TIMEOUT=11h"},
			want: []string{"session.idle_timeout: 11h0m0s is longer than session.lifetime 10h0m0s"},
		},
		{
			name: "authorization code too long",
			env:  []string{"TNO_TOKENS_AUTHORIZATION_CODE=1h"},
			want: []string{"tokens.authorization_code: 1h0m0s is longer than the 10m"},
		},
		{
			name: "weak password parameters",
			env:  []string{"TNO_PASSWORD_MEMORY_KIB=8192", "TNO_PASSWORD_ITERATIONS=1", "TNO_PASSWORD_PARALLELISM=0"},
			want: []string{"password: memory_kib × iterations = 8192 is below the OWASP minimum", "password.parallelism: must be at least 1"},
		},
		{
			name: "bad listen",
			env:  []string{"TNO_LISTEN=localhost"},
			want: []string{`listen: "localhost" is not host:port`},
		},
		{
			name: "section given a value",
			yaml: "database: sqlite\n",
			want: []string{`config.yaml:1:11: database: want a mapping of keys to values, found the value "sqlite"`},
		},
		{
			name: "value given a list",
			yaml: "listen:\n  - 127.0.0.1:1\n",
			want: []string{`config.yaml:2:3: listen: want a single value, found a list`},
		},
		{
			name: "top level not a mapping",
			yaml: "- issuer\n",
			want: []string{"config.yaml:1:1: the top level: want a mapping"},
		},
		{
			name: "duplicate key",
			yaml: "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n",
			want: []string{"config.yaml:2:1: listen is set twice (first on line 1)"},
		},
		{
			name: "merge key",
			yaml: "base: &b {level: info}\nlog:\n  <<: *b\n",
			want: []string{`unknown key "base"`, "config.yaml:3:3: merge keys (<<) are not supported"},
		},
		{
			name: "syntax error",
			yaml: "issuer: [unclosed\n",
			want: []string{"config.yaml: yaml: line"},
		},
		{
			name: "two documents",
			yaml: "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n",
			want: []string{"only one YAML document is allowed"},
		},
		{
			name:    "missing file",
			missing: true,
			want:    []string{"config file: open "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			switch {
			case tt.missing:
				path = filepath.Join(t.TempDir(), "absent.yaml")
			case tt.yaml != "":
				path = writeFile(t, "config.yaml", tt.yaml)
			}
			got, err := Load(path, tt.env)
			if err == nil {
				t.Fatalf("Load succeeded, want errors %q", tt.want)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q; got:\n%s", w, msg)
				}
			}
			if !reflect.DeepEqual(got, Config{}) {
				t.Errorf("Load returned %+v with an error, want the zero Config", got)
			}
		})
	}
}
