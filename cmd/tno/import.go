package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/territoires-ouverts/tno/internal/config"
	"github.com/territoires-ouverts/tno/internal/field"
	"github.com/territoires-ouverts/tno/internal/provision"
	"github.com/territoires-ouverts/tno/internal/server"
	"github.com/territoires-ouverts/tno/internal/storage"
)

const importHelp = `
Imports people and their memberships of the organization SLUG from a CSV
file, in one transaction: every line is applied, or none. The file is
checked first; with --dry-run nothing more is done. Importing the same
file again changes nothing; nothing is ever deleted.

The file is UTF-8 (a byte-order mark is accepted), separated by ";" or ","
(whichever the header uses), at most 10 MiB and 20,000 lines. Its first
line names the columns, in French or English, any order, ignoring case and
accents: identifiant/username, prenom/given_name, nom/family_name
(required), nom_usage/usual_name, courriel/email, telephone/phone,
qualite/kind (agent or elu, default agent), service, fonction/title,
courriel_pro/work_email, debut/from, fin/until (YYYY-MM-DD or DD/MM/YYYY).

One line is one person with one membership of the organization. A person
who exists (same identifier) is updated and their membership of the
organization created or updated. A column the file does not have leaves
that field as it is; an empty cell clears an optional field.

Example:

  identifiant;prenom;nom;courriel;qualite;service;fonction;debut
  jeanne.dupont;Jeanne;Dupont;jeanne.dupont@exemple.fr;agent;Voirie;Cheffe d'équipe;2026-01-05
  paul.martin;Paul;Martin;;elu;;"Adjoint au maire ; culture";04/07/2020`

func runImport(ctx context.Context, env *cliEnv, args []string) error {
	var cf commonFlags
	var org, file string
	var dryRun bool
	fs := newFlagSet(env, "import", "--org SLUG --file FILE.csv [--dry-run]", &cf)
	fs.StringVar(&org, "org", "", "slug of the organization imported into (required)")
	fs.StringVar(&file, "file", "", "CSV file to import (required)")
	fs.BoolVar(&dryRun, "dry-run", false, "check the file and print what would change, write nothing")
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: tno import --org SLUG --file FILE.csv [--dry-run]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintln(env.stderr, importHelp)
	}
	if stop, err := parse(fs, args); stop {
		return err
	}
	if err := required(fs, "org", "file"); err != nil {
		return err
	}
	data, err := readImportFile(file)
	if err != nil {
		return err
	}
	rows, err := provision.Parse(data)
	if err != nil {
		return &fileError{file: file, err: err}
	}
	return withCore(ctx, env, &cf, func(core *server.Core, st storage.Store, _ config.Config) error {
		o, err := core.Territory.OrganizationBySlug(ctx, cliActor, org)
		if err != nil {
			return err
		}
		plan, err := provision.Plan(ctx, st, cliActor, o.ID, rows)
		if err != nil {
			return err
		}
		if plan.Errors > 0 {
			printPlan(env, plan, "[dry run] ")
			return &fileError{file: file, err: planErrors(plan)}
		}
		if dryRun {
			printPlan(env, plan, "[dry run] ")
			fmt.Fprintln(env.stdout, "dry run: nothing was written")
			return nil
		}
		progress := func(done, total int) {
			if total >= 1000 && (done%1000 == 0 || done == total) {
				fmt.Fprintf(env.stderr, "applied %d/%d\n", done, total)
			}
		}
		if _, err := provision.Apply(ctx, core.Territory, cliActor, o.ID, plan, progress); err != nil {
			var le *provision.LineError
			if errors.As(err, &le) {
				return &fileError{file: file, err: fmt.Errorf("line %d (%s): %w", le.Line, le.Username, explainFields(le.Err))}
			}
			return err
		}
		printPlan(env, plan, "")
		return nil
	})
}

// readImportFile reads at most one byte more than an import may hold.
func readImportFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, provision.MaxBytes+1))
}

// printPlan prints each row as tno apply prints its report, then the
// counts.
func printPlan(env *cliEnv, p *provision.Changeset, prefix string) {
	for _, it := range p.Items {
		what := fmt.Sprintf("person %s (line %d)", it.Username, it.Line)
		var line string
		switch it.Action {
		case provision.Create:
			line = "created " + what
		case provision.Update:
			changed := it.Changed
			if it.NewMembership {
				changed = append([]string{"new membership"}, changed...)
			}
			line = "updated " + what
			if len(changed) > 0 {
				line += " (" + strings.Join(changed, ", ") + ")"
			}
		case provision.Unchanged:
			line = "unchanged " + what
		default:
			line = "error " + what
		}
		fmt.Fprintln(env.stdout, prefix+line)
	}
	fmt.Fprintf(env.stdout, "%s%d created, %d updated, %d unchanged, %d in error\n", prefix, p.Create, p.Update, p.Unchanged, p.Errors)
}

// planErrors lists every refused row, one error per problem.
func planErrors(p *provision.Changeset) error {
	var errs []error
	for _, it := range p.Failed() {
		for _, fe := range it.Errors {
			if fe.Field == "" {
				errs = append(errs, fmt.Errorf("line %d: %s", it.Line, fe.Msg))
			} else {
				errs = append(errs, fmt.Errorf("line %d: %s: %s", it.Line, fe.Field, fe.Msg))
			}
		}
	}
	return errors.Join(errs...)
}

// explainFields spells out a use case's field errors.
func explainFields(err error) error {
	fes := field.List(err)
	if len(fes) == 0 {
		return err
	}
	msgs := make([]string, len(fes))
	for i, fe := range fes {
		msgs[i] = fe.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}
