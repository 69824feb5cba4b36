package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// EnvConfig names the variable that cmd/tno reads for the configuration
// file path. Load ignores it, as it ignores TNO_TEST_* (test settings).
const EnvConfig = "TNO_CONFIG"

// envPrefix starts every variable Load reads.
const envPrefix = "TNO_"

// applyEnv applies the TNO_* variables of environ onto c. A variable set
// to the empty string is ignored; when one is listed twice the last wins.
// Any other TNO_* variable is an error: a misspelt override silently
// ignored is worse than a refusal to start.
func applyEnv(c *Config, environ []string) []error {
	byEnv := make(map[string]leaf)
	for _, l := range leaves() {
		byEnv[l.env] = l
	}
	values := make(map[string]string)
	var order []string
	var errs []error
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) || ignoredEnv(name) {
			continue
		}
		if _, known := byEnv[name]; !known {
			errs = append(errs, fmt.Errorf("unknown environment variable %s%s", name, suggest(name, slices.Sorted(maps.Keys(byEnv)))))
			continue
		}
		if _, dup := values[name]; !dup {
			order = append(order, name)
		}
		values[name] = value
	}
	root := reflect.ValueOf(c).Elem()
	for _, name := range order {
		value := values[name]
		if value == "" {
			continue
		}
		l := byEnv[name]
		if err := setScalar(root.FieldByIndex(l.index), value); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %v", name, l.key, err))
		}
	}
	return errs
}

func ignoredEnv(name string) bool {
	return name == EnvConfig || strings.HasPrefix(name, envPrefix+"TEST_")
}

// EnvVar is one environment variable Load reads.
type EnvVar struct {
	Name string // TNO_DATABASE_DSN
	Key  string // database.dsn, the YAML key it overrides
}

// EnvVars returns the variables Load reads, in Config order, for help
// texts and documentation.
func EnvVars() []EnvVar {
	ls := leaves()
	out := make([]EnvVar, len(ls))
	for i, l := range ls {
		out[i] = EnvVar{Name: l.env, Key: l.key}
	}
	return out
}
