package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// fieldKind is how one configuration key is written in YAML.
type fieldKind int

const (
	kindString   fieldKind = iota
	kindInt                // a YAML integer
	kindBool               // true or false
	kindDuration           // a string for time.ParseDuration
	kindSection            // a struct: a YAML mapping
	kindList               // a slice of structs: a YAML sequence of mappings
)

// field is one key of a section, taken from a struct field's mapstructure tag.
type field struct {
	name  string
	index int
	kind  fieldKind
	elem  *schema // the section, or the list's items
}

// schema lists the keys of one section in declaration order.
type schema struct {
	fields []field
}

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[time.Duration]()
)

// schemaOf derives the keys of a section from its struct type. It panics on
// a field type the decoder cannot handle; TestSchema keeps that unreachable.
func schemaOf(t reflect.Type) *schema {
	sc := &schema{}
	for i := range t.NumField() {
		sf := t.Field(i)
		f := field{name: sf.Tag.Get("mapstructure"), index: i}
		switch k := sf.Type.Kind(); {
		case f.name == "":
			panic(fmt.Sprintf("config: field %s.%s has no mapstructure tag", t.Name(), sf.Name))
		case sf.Type == durationType:
			f.kind = kindDuration
		case k == reflect.String:
			f.kind = kindString
		case k == reflect.Int:
			f.kind = kindInt
		case k == reflect.Bool:
			f.kind = kindBool
		case k == reflect.Struct:
			f.kind = kindSection
			f.elem = schemaOf(sf.Type)
		case k == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct:
			f.kind = kindList
			f.elem = schemaOf(sf.Type.Elem())
		default:
			panic(fmt.Sprintf("config: field %s.%s has unsupported type %s", t.Name(), sf.Name, sf.Type))
		}
		sc.fields = append(sc.fields, f)
	}
	return sc
}

// field returns the field called name.
func (sc *schema) field(name string) (field, bool) {
	for _, f := range sc.fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// names returns the section's key names.
func (sc *schema) names() []string {
	names := make([]string, len(sc.fields))
	for i, f := range sc.fields {
		names[i] = f.name
	}
	return names
}

// leafKeys returns the paths of all scalar keys at or below prefix,
// not descending into lists.
func (sc *schema) leafKeys(prefix string) []string {
	var keys []string
	for _, f := range sc.fields {
		key := joinKey(prefix, f.name)
		switch f.kind {
		case kindSection:
			keys = append(keys, f.elem.leafKeys(key)...)
		case kindList:
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

// joinKey returns prefix.name, or name at the top level.
func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// maxAliasDepth bounds how far checkFile follows a chain of YAML aliases.
const maxAliasDepth = 64

// yamlLineErr matches the line number in go.yaml.in/yaml/v3 syntax errors.
var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// checkFile parses data as YAML, records the line of every key it knows and
// records a problem for each unknown key and each value of the wrong shape
// (a scalar where a section belongs, a list that is not one). Scalar types
// are checked later, on the decoded values.
//
// It returns the file re-encoded without the keys it reported, for viper to
// merge: a misspelt or misplaced key must not take effect anyway through
// viper's case-insensitive, dot-splitting keys. It returns nil when there is
// nothing to merge, and an error when data is not YAML at all.
func (l *loader) checkFile(data []byte, sc *schema) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil // empty, or only comments
	} else if err != nil {
		return nil, l.yamlError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &FieldError{File: l.file, Line: next.Line, col: next.Column, Msg: "only one YAML document is allowed"}
	} else if !errors.Is(err, io.EOF) {
		return nil, l.yamlError(err)
	}
	if len(doc.Content) == 0 || !l.checkSection(doc.Content[0], sc, "") {
		return nil, nil
	}
	clean, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, &FieldError{File: l.file, Msg: "cannot re-encode: " + err.Error()}
	}
	return clean, nil
}

// yamlError turns a YAML syntax error into a FieldError with a line, when
// the parser gave one.
func (l *loader) yamlError(err error) error {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			return &FieldError{File: l.file, Line: n, Msg: "not valid YAML: " + m[2]}
		}
	}
	return &FieldError{File: l.file, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// resolve follows aliases to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for range maxAliasDepth {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			return n
		}
		n = n.Alias
	}
	return n
}

// isNull reports whether n is an empty value (key: with nothing after it, ~, null).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// checkSection checks the mapping n against the section sc found at key
// prefix, removing the keys it reports from n. It returns false if n is not
// a mapping at all.
func (l *loader) checkSection(n *yaml.Node, sc *schema, prefix string) bool {
	n = resolve(n)
	if isNull(n) {
		return true // an empty section keeps its defaults
	}
	if n.Kind != yaml.MappingNode {
		msg := fmt.Sprintf("must be a mapping of keys (%s), got %s", oneOf(sc.names()), describeNode(n))
		if prefix == "" {
			l.add(&FieldError{File: l.file, Line: n.Line, col: n.Column, Msg: "the top level " + msg})
			return false
		}
		l.fail(prefix, "%s", msg)
		return false
	}
	seen := map[string]int{}
	// Build the kept pairs in a new slice: through an alias, a nested
	// check may reach and rewrite this very mapping.
	content := n.Content
	kept := make([]*yaml.Node, 0, len(content))
	for i := 0; i+1 < len(content); i += 2 {
		k, v := resolve(content[i]), content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.add(&FieldError{Key: prefix, File: l.file, Line: k.Line, col: k.Column, Msg: "keys must be plain names, got " + describeNode(k)})
			continue
		}
		name := k.Value
		if name == "" {
			name = `""`
		}
		key := joinKey(prefix, name)
		if first, ok := seen[k.Value]; ok {
			l.add(&FieldError{Key: key, File: l.file, Line: k.Line, col: k.Column, Msg: fmt.Sprintf("duplicate key (first at line %d)", first)})
			continue
		}
		seen[k.Value] = k.Line
		if k.ShortTag() == "!!merge" {
			l.add(&FieldError{Key: key, File: l.file, Line: k.Line, col: k.Column, Msg: "merge keys are not supported; write the keys out"})
			continue
		}
		f, ok := sc.field(k.Value)
		if !ok {
			msg := "unknown key" + suggest(k.Value, sc.names())
			if strings.Contains(k.Value, ".") {
				msg += " (write nested keys indented under their section, not with dots)"
			}
			l.add(&FieldError{Key: key, File: l.file, Line: k.Line, col: k.Column, Msg: msg})
			continue
		}
		l.lines[key] = pos{k.Line, k.Column}
		switch f.kind {
		case kindSection:
			if !l.checkSection(v, f.elem, key) {
				continue
			}
		case kindList:
			if !l.checkList(v, f.elem, key) {
				continue
			}
		}
		kept = append(kept, content[i], v)
	}
	n.Content = kept
	return true
}

// checkList checks that n is a sequence of mappings of the section sc. It
// returns false if n is not a sequence at all.
func (l *loader) checkList(n *yaml.Node, sc *schema, key string) bool {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		l.fail(key, "must be a list, got %s", describeNode(n))
		return false
	}
	for i, item := range n.Content {
		ik := fmt.Sprintf("%s[%d]", key, i)
		l.lines[ik] = pos{item.Line, item.Column}
		if isNull(resolve(item)) {
			l.fail(ik, "must be a mapping of keys (%s), got no value", oneOf(sc.names()))
			continue
		}
		l.checkSection(item, sc, ik)
	}
	return true
}

// describeNode says what a YAML node holds, for messages.
func describeNode(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "no value"
		case "!!str":
			return strconv.Quote(n.Value)
		case "!!int", "!!float":
			return "number " + n.Value
		case "!!bool":
			return n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// suggest returns ` (did you mean "x"?)` for the known name closest to
// name, if one is close enough to be a typo.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := editDistance(strings.ToLower(name), k)
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance returns the Levenshtein distance between a and b in bytes,
// giving up (returning a large value) for long inputs.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
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

// decodeStruct fills the struct dst points to from get, which returns the
// merged value of a key path (nil when absent).
func (l *loader) decodeStruct(dst any, sc *schema, prefix string, get func(key string) any) {
	rv := reflect.ValueOf(dst).Elem()
	for _, f := range sc.fields {
		key := joinKey(prefix, f.name)
		fv := rv.Field(f.index)
		switch f.kind {
		case kindSection:
			l.decodeStruct(fv.Addr().Interface(), f.elem, key, get)
		case kindList:
			l.decodeList(fv, f.elem, key, get(key))
		default:
			l.decodeLeaf(fv, f.kind, key, get(key))
		}
	}
}

// decodeList fills the slice fv from val, which should be a list of
// mappings. Items that are not mappings stay zero, keeping the indexes of
// the others, and have been reported by checkFile.
func (l *loader) decodeList(fv reflect.Value, sc *schema, key string, val any) {
	items, ok := val.([]any)
	if !ok {
		if !l.isFailed(key) {
			l.fail(key, "must be a list, got %s", describeValue(val))
		}
		return
	}
	s := reflect.MakeSlice(fv.Type(), 0, len(items))
	for i, item := range items {
		ik := fmt.Sprintf("%s[%d]", key, i)
		e := reflect.New(fv.Type().Elem())
		if m, ok := item.(map[string]any); ok {
			l.decodeStruct(e.Interface(), sc, ik, func(k string) any {
				v, ok := m[strings.TrimPrefix(k, ik+".")]
				if !ok {
					return absent{}
				}
				return v
			})
		} else if !l.isFailed(ik) {
			l.fail(ik, "must be a mapping of keys (%s), got %s", oneOf(sc.names()), describeValue(item))
		}
		s = reflect.Append(s, e.Elem())
	}
	fv.Set(s)
}

// absent is the value of a key a list item leaves out; it keeps its zero
// value, for validation to judge.
type absent struct{}

// durationHint ends every message about a malformed duration.
const durationHint = "(use e.g. 30s, 5m)"

// decodeLeaf stores val in fv. A value from the environment is a string
// and is parsed; one from YAML must already have the right type.
func (l *loader) decodeLeaf(fv reflect.Value, kind fieldKind, key string, val any) {
	if _, ok := val.(absent); ok || l.isFailed(key) {
		return
	}
	s, isString := val.(string)
	_, fromEnv := l.env[key]
	switch kind {
	case kindString:
		switch {
		case isString:
			fv.SetString(s)
		case val == nil:
			l.fail(key, `must be a string, got no value (write "" for an empty one)`)
		default:
			l.fail(key, "must be a string, got %s", describeValue(val))
		}
	case kindInt:
		if fromEnv && isString {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				l.fail(key, "must be a whole number, got %q", s)
				return
			}
			fv.SetInt(int64(n))
			return
		}
		switch n := val.(type) {
		case int:
			fv.SetInt(int64(n))
		case int64:
			fv.SetInt(n)
		default:
			l.fail(key, "must be a whole number, got %s", describeValue(val))
		}
	case kindBool:
		if fromEnv && isString {
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				l.fail(key, "must be true or false, got %q", s)
				return
			}
			fv.SetBool(b)
			return
		}
		if b, ok := val.(bool); ok {
			fv.SetBool(b)
			return
		}
		l.fail(key, "must be true or false, got %s", describeValue(val))
	case kindDuration:
		if !isString {
			l.fail(key, "not a duration: %s %s", describeValue(val), durationHint)
			return
		}
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			l.fail(key, "not a duration: %q %s", s, durationHint)
			return
		}
		fv.SetInt(int64(d))
	}
}

// describeValue says what a decoded YAML value is, for messages.
func describeValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "no value"
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case int, int64, uint64, float64:
		return fmt.Sprintf("number %v", v)
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	case time.Time:
		return "a timestamp (quote it to make it a string)"
	}
	return fmt.Sprintf("a %T", v)
}
