package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// subcommandNames returns the verbs "tno cmd -h" lists, in the order of
// its subcommand table; nil for a command without subcommands.
func subcommandNames(t *testing.T, c *cli, cmd string) []string {
	t.Helper()
	r := c.run(cmd, "-h")
	_, list, ok := strings.Cut(r.stderr, "\nSubcommands:\n")
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var names []string
	for line := range strings.SplitSeq(list, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// summaryVerbs is the "(a, b, c)" list ending a command's summary.
var summaryVerbs = regexp.MustCompile(`\(([a-z-]+(?:, [a-z-]+)*)\)$`)

// TestUsageListsEverySubcommand fails when a subcommand is added to,
// removed from or reordered in a command's table and tno --help is not
// told.
func TestUsageListsEverySubcommand(t *testing.T) {
	c := newCLI(t)
	checked := 0
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			verbs := subcommandNames(t, c, cmd.name)
			m := summaryVerbs.FindStringSubmatch(cmd.summary)
			switch {
			case verbs == nil && m == nil:
				return
			case verbs == nil:
				t.Fatalf("summary %q lists subcommands, but tno %s -h shows none", cmd.summary, cmd.name)
			case m == nil:
				t.Fatalf("summary %q does not end with its subcommands (%s)", cmd.summary, strings.Join(verbs, ", "))
			}
			checked++
			if d := cmp.Diff(verbs, strings.Split(m[1], ", ")); d != "" {
				t.Errorf("summary %q disagrees with tno %s -h (-table +summary):\n%s", cmd.summary, cmd.name, d)
			}
		})
	}
	if checked < 8 {
		t.Errorf("checked %d commands with subcommands, want at least 8: is the Subcommands: list still parsed?", checked)
	}
	r := c.run("--help")
	for _, cmd := range commands() {
		if !strings.Contains(r.stderr, cmd.summary) {
			t.Errorf("tno --help does not show %q", cmd.summary)
		}
	}
}

// helpFlags returns the flags "tno args... -h" prints, with their usage.
func helpFlags(t *testing.T, c *cli, args ...string) map[string]string {
	t.Helper()
	r := c.run(append(args, "-h")...)
	if r.code != 0 {
		t.Fatalf("tno %s -h: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	_, defaults, ok := strings.Cut(r.stderr, "\nFlags:\n")
	if !ok {
		t.Fatalf("tno %s -h prints no flags:\n%s", strings.Join(args, " "), r.stderr)
	}
	flags := make(map[string]string)
	var last string
	for line := range strings.SplitSeq(defaults, "\n") {
		// flag.PrintDefaults: "  -name type" then "    \tusage", or
		// "  -x type\tusage" for a one-letter name.
		if rest, ok := strings.CutPrefix(line, "  -"); ok {
			name, usage, _ := strings.Cut(rest, "\t")
			last = strings.Fields(name)[0]
			flags[last] = usage
			continue
		}
		if last != "" {
			flags[last] += " " + strings.TrimSpace(line)
		}
	}
	return flags
}

// requiredInHelp returns the flags whose usage says "(required)".
func requiredInHelp(flags map[string]string) []string {
	var out []string
	for name, usage := range flags {
		if strings.Contains(usage, "(required)") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// missingRequired returns the flags "tno args..." (given no flag at all)
// reports as missing.
func missingRequired(t *testing.T, c *cli, args ...string) []string {
	t.Helper()
	r := c.run(args...)
	_, rest, ok := strings.Cut(r.stderr, ": missing required flag ")
	if !ok {
		return nil
	}
	line, _, _ := strings.Cut(rest, "\n")
	var out []string
	for f := range strings.SplitSeq(line, ", ") {
		out = append(out, strings.TrimPrefix(f, "--"))
	}
	slices.Sort(out)
	return out
}

func TestHelpMarksOnlyRequiredFlags(t *testing.T) {
	c := newCLI(t)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"app", "create"}, []string{"client-id", "name", "org", "redirect-uri"}},
		{[]string{"app", "update"}, []string{"client-id"}},
		{[]string{"org", "create"}, []string{"name", "siren", "slug"}},
		{[]string{"org", "update"}, []string{"slug"}},
		{[]string{"person", "create"}, []string{"family-name", "given-name", "username"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			flags := helpFlags(t, c, tt.args...)
			if d := cmp.Diff(tt.want, requiredInHelp(flags)); d != "" {
				t.Errorf("flags marked (required) (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.want, missingRequired(t, c, tt.args...)); d != "" {
				t.Errorf("flags reported missing without any flag (-want +got):\n%s", d)
			}
		})
	}
	// What update leaves alone has no default to show either.
	flags := helpFlags(t, c, "app", "update")
	for _, name := range []string{"name", "type", "redirect-uri"} {
		if u, ok := flags[name]; !ok || strings.Contains(u, "required") || strings.Contains(u, "(default") {
			t.Errorf("app update -h, --%s: %q, want it listed, neither required nor with a default", name, u)
		}
	}
}

// TestEveryRequiredFlagIsMarked runs every subcommand without flags: the
// flags it then reports missing are exactly those its -h marks
// (required).
func TestEveryRequiredFlagIsMarked(t *testing.T) {
	c := newCLI(t)
	for _, cmd := range commands() {
		for _, verb := range subcommandNames(t, c, cmd.name) {
			t.Run(cmd.name+" "+verb, func(t *testing.T) {
				marked := requiredInHelp(helpFlags(t, c, cmd.name, verb))
				if len(marked) == 0 {
					return // running it would do its work: nothing to compare
				}
				if d := cmp.Diff(marked, missingRequired(t, c, cmd.name, verb)); d != "" {
					t.Errorf("-marked (required) in -h +reported missing:\n%s", d)
				}
			})
		}
	}
}
