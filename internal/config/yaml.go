package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"

	"go.yaml.in/yaml/v3"
)

// decodeYAML applies the YAML document data (read from file) onto c.
//
// yaml's own strict mode (Decoder.KnownFields) stops at the first unknown
// key, so the document is parsed into a yaml.Node tree and walked against
// Config's yaml tags instead: every unknown or repeated key and every bad
// value is reported, each with its line and column.
func decodeYAML(c *Config, file string, data []byte) []error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: defaults
		}
		return []error{fmt.Errorf("%s: %w", file, err)}
	}
	d := nodeDecoder{file: file}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.errs = append(d.errs, fmt.Errorf("%s: %w", file, err))
	default:
		d.errorf(&extra, "only one YAML document is allowed")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return d.errs
		}
		root = root.Content[0]
	}
	d.section(reflect.ValueOf(c).Elem(), root, "")
	return d.errs
}

type nodeDecoder struct {
	file string
	errs []error
}

func (d *nodeDecoder) errorf(n *yaml.Node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.errs = append(d.errs, fmt.Errorf("%s:%d:%d: %s", d.file, n.Line, n.Column, msg))
}

// section decodes mapping n into struct v; path is v's dotted key ("" for
// the top level).
func (d *nodeDecoder) section(v reflect.Value, n *yaml.Node, path string) {
	n = deref(n)
	if isNull(n) {
		return // "database:" alone keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		what := "the top level"
		if path != "" {
			what = path
		}
		d.errorf(n, "%s: want a mapping of keys to values, found %s", what, describe(n))
		return
	}
	keys := sectionKeys(v.Type())
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "keys must be plain names, found %s", describe(k))
			continue
		}
		full := k.Value
		if path != "" {
			full = path + "." + k.Value
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, "%s is set twice (first on line %d)", full, line)
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := keys[k.Value]
		if !ok {
			d.unknown(k, path, keys)
			continue
		}
		f := v.Field(idx)
		if isSection(f.Type()) {
			d.section(f, val, full)
		} else {
			d.scalar(f, val, full)
		}
	}
}

func (d *nodeDecoder) unknown(k *yaml.Node, path string, keys map[string]int) {
	if k.Value == "<<" {
		d.errorf(k, "merge keys (<<) are not supported")
		return
	}
	where := ""
	if path != "" {
		where = " in " + path
	}
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
	}
	slices.Sort(names) // stable hint when two are equally close
	d.errorf(k, "unknown key %q%s%s", k.Value, where, suggest(k.Value, names))
}

// scalar decodes the single value n into v, whose dotted key is key.
func (d *nodeDecoder) scalar(v reflect.Value, n *yaml.Node, key string) {
	n = deref(n)
	if isNull(n) {
		return // "dsn:" alone keeps the default
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s: want a single value, found %s", key, describe(n))
		return
	}
	if err := setScalar(v, n.Value); err != nil {
		d.errorf(n, "%s: %v", key, err)
	}
}

// deref follows aliases to the anchored node. The parser links an alias
// to its anchor directly; the bound only guards against malformed trees.
func deref(n *yaml.Node) *yaml.Node {
	for range 8 {
		if n == nil || n.Kind != yaml.AliasNode {
			return n
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a document"
	}
}
