package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/storage"
)

const applyHelp = `
Creates or updates the organizations, people (with their memberships and
mandates) and applications declared in FILE, in one transaction: either
everything is applied or nothing is. Applying the same file again changes
nothing. Nothing is ever deleted: records missing from the file are left
alone (use the other commands to end memberships or disable people and
applications).

Records are matched by organization slug, username, (person, org, kind)
for memberships, (membership, function, from) for mandates and client_id
for applications. Declared fields overwrite stored ones; an empty "from"
keeps the stored start date.

password_file (people) is read only when the person is created: an
existing password is never overwritten. secret_file (confidential
applications) sets the client secret; without it a secret is generated on
creation and printed once. Both paths are relative to FILE.

An application's protocol settings take their OpenID registration names
(grant_types, refresh_tokens, client_credentials_scopes,
token_endpoint_auth_method, jwks, jwks_uri, require_par, subject_type,
userinfo_signed_response_alg, frontchannel_logout_uri,
frontchannel_logout_session_required, backchannel_logout_uri,
backchannel_logout_session_required); a setting left out takes its
default. jwks is the application's JWK Set of public keys, as a YAML
mapping or a string of JSON.

Example:

  organizations:
    - slug: metropole
      name: Métropole Exemple
      siren: "200046977"
      siret: "20004697700019"
  people:
    - username: jdupont
      given_name: Jeanne
      family_name: Dupont
      email: jeanne.dupont@exemple.fr
      email_verified: true
      password_file: ./secrets/jdupont
      memberships:
        - org: metropole
          kind: elu
          service: Direction du numérique
          from: 2026-01-01
          mandates:
            - function: Maire
              from: 2026-03-20
  applications:
    - client_id: nextcloud
      org: metropole
      name: Nextcloud
      type: confidential
      redirect_uris: [https://cloud.exemple.fr/apps/user_oidc/code]
      grant_orgs: []
      kinds: [agent]
      first_party: true
      grant_types: [refresh_token]
      backchannel_logout_uri: https://cloud.exemple.fr/apps/user_oidc/backchannel-logout/tno
    - client_id: paie
      org: metropole
      name: Paie
      type: confidential
      redirect_uris: [https://paie.exemple.fr/oidc/callback]
      token_endpoint_auth_method: private_key_jwt
      jwks_uri: https://paie.exemple.fr/oidc/jwks.json
      subject_type: pairwise`

// applyFile is the document tno apply reads. Unknown keys are errors.
type applyFile struct {
	Organizations []applyOrg    `yaml:"organizations"`
	People        []applyPerson `yaml:"people"`
	Applications  []applyApp    `yaml:"applications"`
}

type applyOrg struct {
	Slug  string `yaml:"slug"`
	Name  string `yaml:"name"`
	SIREN string `yaml:"siren"`
	SIRET string `yaml:"siret"`
}

type applyPerson struct {
	Username      string            `yaml:"username"`
	GivenName     string            `yaml:"given_name"`
	FamilyName    string            `yaml:"family_name"`
	UsualName     *string           `yaml:"usual_name"` // nil: not named, left as it is
	Email         *string           `yaml:"email"`
	EmailVerified *bool             `yaml:"email_verified"`
	Phone         *string           `yaml:"phone"`
	PasswordFile  string            `yaml:"password_file"`
	Memberships   []applyMembership `yaml:"memberships"`
}

type applyMembership struct {
	Org      string         `yaml:"org"`
	Kind     string         `yaml:"kind"`
	Service  *string        `yaml:"service"` // nil: not named, left as it is
	Title    *string        `yaml:"title"`
	Email    *string        `yaml:"email"`
	Phone    *string        `yaml:"phone"`
	From     string         `yaml:"from"`
	Until    string         `yaml:"until"`
	Mandates []applyMandate `yaml:"mandates"`
}

type applyMandate struct {
	Function    string `yaml:"function"`
	Delegations string `yaml:"delegations"`
	From        string `yaml:"from"`
	Until       string `yaml:"until"`
}

type applyApp struct {
	ClientID               string   `yaml:"client_id"`
	Org                    string   `yaml:"org"`
	Name                   string   `yaml:"name"`
	Type                   string   `yaml:"type"`
	SecretFile             string   `yaml:"secret_file"`
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	GrantOrgs              []string `yaml:"grant_orgs"`
	Kinds                  []string `yaml:"kinds"`
	Scopes                 []string `yaml:"scopes"`
	FirstParty             bool     `yaml:"first_party"`
	// Protocol settings (storage.ClientSettings), under their
	// registration metadata names.
	GrantTypes                        []string  `yaml:"grant_types"`
	RefreshTokens                     bool      `yaml:"refresh_tokens"`
	ClientCredentialsScopes           []string  `yaml:"client_credentials_scopes"`
	TokenEndpointAuthMethod           string    `yaml:"token_endpoint_auth_method"`
	JWKS                              yaml.Node `yaml:"jwks"` // a mapping, or a string of JSON
	JWKSURI                           string    `yaml:"jwks_uri"`
	RequirePAR                        bool      `yaml:"require_par"`
	RequireACR                        string    `yaml:"require_acr"`
	SubjectType                       string    `yaml:"subject_type"`
	UserinfoSignedResponseAlg         string    `yaml:"userinfo_signed_response_alg"`
	FrontchannelLogoutURI             string    `yaml:"frontchannel_logout_uri"`
	FrontchannelLogoutSessionRequired bool      `yaml:"frontchannel_logout_session_required"`
	BackchannelLogoutURI              string    `yaml:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired  bool      `yaml:"backchannel_logout_session_required"`
}

// yamlSections names the Go types in yaml's messages after the file's
// sections.
var yamlSections = map[string]string{
	"main.applyFile":       "top level",
	"main.applyOrg":        "organizations",
	"main.applyPerson":     "people",
	"main.applyMembership": "memberships",
	"main.applyMandate":    "mandates",
	"main.applyApp":        "applications",
}

var unknownFieldRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)

// decodeApply decodes data strictly. A syntax error stops decoding; type
// errors and unknown keys are all returned, with what could be decoded.
func decodeApply(data []byte) (*applyFile, []error) {
	var f applyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&f)
	if errors.Is(err, io.EOF) {
		return &f, []error{errors.New("the file is empty")}
	}
	var te *yaml.TypeError
	var errs []error
	switch {
	case errors.As(err, &te):
		for _, msg := range te.Errors {
			if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
				section := yamlSections[m[3]]
				if section == "" {
					section = m[3]
				}
				msg = fmt.Sprintf("line %s: unknown key %q in %s", m[1], m[2], section)
			}
			errs = append(errs, errors.New(msg))
		}
	case err != nil:
		return nil, []error{err}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		errs = append(errs, errors.New("the file holds more than one YAML document"))
	}
	return &f, errs
}

// errDryRun rolls back the transaction of a dry run.
var errDryRun = errors.New("dry run")

func runApply(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var file string
	var dryRun bool
	fs := newFlagSet(env, "apply", "-f FILE [--dry-run]", &cf)
	fs.StringVar(&file, "f", "", "YAML file to apply (required)")
	fs.BoolVar(&dryRun, "dry-run", false, "validate and report what would change, write nothing")
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: tno apply -f FILE [--dry-run]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintln(env.stderr, applyHelp)
	}
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "f"); err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	f, decodeErrs := decodeApply(data)
	if f == nil {
		return fmt.Errorf("%s: %w", file, decodeErrs[0])
	}
	return withStore(ctx, env, &cf, func(st storage.Store, cfg config.Config) error {
		var rep *applyReport
		err := st.WithTx(ctx, func(tx storage.Store) error {
			// Validate against the transaction's view of the database,
			// then write: a problem anywhere leaves nothing half-done.
			p, errs := buildPlan(ctx, tx, f, filepath.Dir(file))
			if err := errors.Join(append(decodeErrs, errs...)...); err != nil {
				return &fileError{file: file, err: err}
			}
			a := &applier{tx: tx, cfg: cfg, dryRun: dryRun, rep: &applyReport{}}
			if err := a.apply(ctx, p); err != nil {
				return err
			}
			rep = a.rep
			if dryRun {
				return errDryRun
			}
			return nil
		})
		if err != nil && !errors.Is(err, errDryRun) {
			return err
		}
		rep.print(env, dryRun)
		return nil
	})
}

// fileError lists every problem of a file, one per line.
type fileError struct {
	file string
	err  error
}

func (e *fileError) Error() string {
	errs := flatten(e.err)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s), nothing was applied:", e.file, len(errs))
	for _, err := range errs {
		b.WriteString("\n  " + strings.ReplaceAll(err.Error(), "\n", "\n    "))
	}
	return b.String()
}

func (e *fileError) Unwrap() error { return e.err }

// flatten expands joined errors into their leaves.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// applyReport collects what apply did, to print after the commit.
type applyReport struct {
	lines                       []string
	created, updated, unchanged int
	secrets                     []string // "client_id\x00secret" generated on creation
}

func (r *applyReport) add(verb, what string, changed ...string) {
	switch verb {
	case "created":
		r.created++
	case "updated":
		r.updated++
	default:
		r.unchanged++
	}
	line := verb + " " + what
	if len(changed) > 0 {
		line += " (" + strings.Join(changed, ", ") + ")"
	}
	r.lines = append(r.lines, line)
}

func (r *applyReport) note(line string) { r.lines = append(r.lines, "  "+line) }

func (r *applyReport) print(env *cliEnv, dryRun bool) {
	prefix := ""
	if dryRun {
		prefix = "[dry run] "
	}
	for _, l := range r.lines {
		fmt.Fprintln(env.stdout, prefix+l)
	}
	fmt.Fprintf(env.stdout, "%s%d created, %d updated, %d unchanged\n", prefix, r.created, r.updated, r.unchanged)
	for _, s := range r.secrets {
		id, secret, _ := strings.Cut(s, "\x00")
		fmt.Fprintf(env.stdout, "client_secret for %s: %s\n", id, secret)
	}
	if len(r.secrets) > 0 {
		fmt.Fprintln(env.stderr, "These client secrets are shown once and are not stored in clear: copy them into the applications' configuration now.")
	}
	if dryRun {
		fmt.Fprintln(env.stdout, "dry run: nothing was written")
	}
}
