// Command tno is TNO, the territory's single sign-on: `tno serve` runs the
// server; the other subcommands administer organizations, people,
// memberships, applications and signing keys on the same database.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what every subcommand may use: streams and process environment.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
}

// commands lists the commands. A command with subcommands ends its
// summary with their names, in the order of its subcommand table
// (help_test.go checks they agree).
func commands() []command {
	return []command{
		{"serve", "start the server", runServe},
		{"org", "manage organizations (create, list, show, update)", runOrg},
		{"person", "manage people (create, list, show, set-password, disable, enable, reset-factors)", runPerson},
		{"membership", "manage memberships (create, list, end)", runMembership},
		{"mandate", "manage élus' mandates (add, list)", runMandate},
		{"role", "manage administration roles (grant, revoke, list)", runRole},
		{"app", "manage OpenID Connect applications (create, list, show, update, rotate-secret, disable, enable, grant-admin, revoke-admin)", runApp},
		{"apply", "apply a declarative YAML file idempotently (tno apply -f file.yaml)", runApply},
		{"import", "import people and memberships from CSV (--dry-run first)", runImport},
		{"keys", "manage signing keys, make an application's JWK Set (list, rotate, client-jwks)", runKeys},
		{"session", "manage people's single sign-on sessions (list, end)", runSession},
		{"audit", "read and check the security audit log (list, verify)", runAudit},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, env *cliEnv) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if err := c.run(ctx, env, args[1:]); err != nil {
				if err == errUsage {
					return 2
				}
				fmt.Fprintf(env.stderr, "tno %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(env.stderr, "tno: unknown command %q\n\n", args[0])
	usage(env.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: tno <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tno <command> -h' for a command's flags.")
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func runVersion(_ context.Context, env *cliEnv, _ []string) error {
	fmt.Fprintf(env.stdout, "tno %s\n", version)
	return nil
}
