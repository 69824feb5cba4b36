package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// A leaf is one settable value of Config, found by walking the yaml tags:
// the file and the environment share this one description, so a field
// added to Config is known to both without a hand-written list.
type leaf struct {
	key   string // dotted YAML path: "database.dsn"
	env   string // TNO_DATABASE_DSN
	index []int  // reflect field index path from Config
}

// leaves lists every settable value of Config in declaration order.
func leaves() []leaf {
	var out []leaf
	var walk func(t reflect.Type, path []string, index []int)
	walk = func(t reflect.Type, path []string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			p := append(append([]string(nil), path...), name)
			ix := append(append([]int(nil), index...), i)
			if isSection(f.Type) {
				walk(f.Type, p, ix)
				continue
			}
			out = append(out, leaf{
				key:   strings.Join(p, "."),
				env:   "TNO_" + strings.ToUpper(strings.Join(p, "_")),
				index: ix,
			})
		}
	}
	walk(reflect.TypeFor[Config](), nil, nil)
	return out
}

// yamlName is the key of a field in the file, "" if it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// isSection reports whether values of type t are YAML mappings (nested
// structs) rather than scalars.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// sectionKeys maps the YAML keys of struct type t to field indexes.
func sectionKeys(t reflect.Type) map[string]int {
	keys := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			keys[name] = i
		}
	}
	return keys
}

// setScalar parses s into the addressable value v, the same way for the
// file and the environment. The error says what was wanted, without key.
func setScalar(v reflect.Value, s string) error {
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
			return u.UnmarshalText([]byte(s))
		}
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("invalid value %q: want true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			hi := int64(^uint64(0) >> (65 - v.Type().Bits()))
			return fmt.Errorf("invalid value %q: want an integer from %d to %d", s, -hi-1, hi)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			hi := ^uint64(0) >> (64 - v.Type().Bits())
			return fmt.Errorf("invalid value %q: want an integer from 0 to %d", s, hi)
		}
		v.SetUint(n)
	default:
		// A Config field of a kind this function does not know is a
		// programming error; TestLeavesSettable catches it.
		return errors.New("unsupported field type " + v.Type().String())
	}
	return nil
}

// suggest returns a " (did you mean X?)" hint naming the candidate closest
// to s, or "" if none is close.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3 // at most two edits away
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64 // long junk never matches; bounds the work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
