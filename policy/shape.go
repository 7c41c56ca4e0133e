package policy

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The strict shape check of the policy file: every unknown key, repeated
// key or wrong kind is a problem with its path and line.

// checkShape walks n alongside t, the Go type it decodes into, and reports
// what strict decoding rejects: unknown and repeated keys, a mapping or list
// where another kind belongs, and a non-number where a number belongs.
func checkShape(n *yaml.Node, t reflect.Type, path string, s *shapeCheck) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n.ShortTag() == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	bad := func(msg string) {
		s.add(path, fmt.Errorf("%s: %s (line %d)", pathOrTop(path), msg, n.Line))
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if n.Kind != yaml.MappingNode {
			bad("must be a mapping of keys to values")
			return
		}
		var known map[string]reflect.Type
		if t.Kind() == reflect.Struct {
			known = yamlFields(t)
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				checkMerge(v, t, path, s)
				continue
			}
			p := joinPath(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				s.add(p, fmt.Errorf("%s: repeated key (line %d; first at line %d)", p, k.Line, first))
				continue
			}
			seen[k.Value] = k.Line
			if known == nil { // a map: every key is welcome
				checkShape(v, t.Elem(), p, s)
				continue
			}
			ft, ok := known[k.Value]
			if !ok {
				s.add(p, fmt.Errorf("%s: unknown key (line %d); known keys here: %s", p, k.Line, strings.Join(sortedKeys(known), ", ")))
				continue
			}
			checkShape(v, ft, p, s)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			bad("must be a list")
			return
		}
		for i, c := range n.Content {
			checkShape(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), s)
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			bad(fmt.Sprintf("%q is not a whole number", n.Value))
		}
	default: // strings: any single value
		if n.Kind != yaml.ScalarNode {
			bad("must be a single value, not a list or mapping")
		}
	}
}

// checkMerge checks the mappings a merge key (<<: *anchor) pulls in.
func checkMerge(v *yaml.Node, t reflect.Type, path string, s *shapeCheck) {
	if v.Kind == yaml.SequenceNode {
		for _, c := range v.Content {
			checkShape(c, t, path, s)
		}
		return
	}
	checkShape(v, t, path, s)
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			m[name] = f.Type
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// joinPath appends key to a dotted path, quoting keys that hold other
// characters (apps."my.app".vault).
func joinPath(path, key string) string {
	if !plainKey.MatchString(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOrTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}
