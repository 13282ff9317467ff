package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// locator finds the line of a key path in the YAML source, so errors read
// "configs/x.yaml:12: strategies[1].workers: …". A key whose value came from
// a flag or an environment variable is blamed on that instead:
// "$ORTBENCH_REPETITIONS: repetitions: …", "--rows: workload.rows: …".
type locator struct {
	file string
	root *yaml.Node
	// overrides maps a config key to the flag or variable that set it.
	overrides map[string]string
	// failed are the keys whose values could not be decoded: Expand does
	// not report them a second time (a workload that is not a mapping is
	// not also "missing its model").
	failed map[string]bool
	// keys indexes each mapping's keys (lower case → position) on first
	// use, so locating n errors costs O(n), not O(n × keys).
	keys map[*yaml.Node]map[string]int
}

func newLocator(file string, data []byte) (*locator, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	l := &locator{file: file}
	if len(doc.Content) > 0 {
		l.root = doc.Content[0]
		if l.root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s:%d: want a mapping of keys (name, workload, strategies, …), got a %s", file, l.root.Line, kindName(l.root.Kind))
		}
	}
	return l, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	}
	return "document"
}

var segment = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// line returns the line of the deepest node on path that exists, or 0.
func (l *locator) line(path string) int {
	if l == nil || l.root == nil {
		return 0
	}
	n, best := l.root, 0
	for _, m := range segment.FindAllStringSubmatch(path, -1) {
		var next *yaml.Node
		switch {
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			i, _ := strconv.Atoi(m[2])
			if i < len(n.Content) {
				next = n.Content[i]
			}
		case m[1] != "" && n.Kind == yaml.MappingNode:
			if i, ok := l.keyIndex(n)[strings.ToLower(m[1])]; ok {
				best = n.Content[i].Line
				next = n.Content[i+1]
			}
		}
		if next == nil {
			break
		}
		if m[2] != "" {
			best = next.Line
		}
		n = next
	}
	return best
}

// has reports whether the file gives path (every segment of it exists).
func (l *locator) has(path string) bool {
	if l == nil || l.root == nil {
		return false
	}
	n := l.root
	for _, m := range segment.FindAllStringSubmatch(path, -1) {
		switch {
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			j, _ := strconv.Atoi(m[2])
			if j >= len(n.Content) {
				return false
			}
			n = n.Content[j]
		case m[1] != "" && n.Kind == yaml.MappingNode:
			i, ok := l.keyIndex(n)[strings.ToLower(m[1])]
			if !ok {
				return false
			}
			n = n.Content[i+1]
		default:
			return false
		}
	}
	return true
}

// given reports whether the file or an override (environment, flag)
// sets key.
func (l *locator) given(key string) bool { return l.has(key) || l.override(key) != "" }

// failedUnder reports whether key, or a key it is part of, failed to decode.
func (l *locator) failedUnder(key string) bool {
	if l == nil || len(l.failed) == 0 {
		return false
	}
	for k := range l.failed {
		if k != "" && (key == k || strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[")) {
			return true
		}
	}
	return false
}

// keyIndex maps n's keys (lower case) to their positions in n.Content;
// the first of duplicate keys wins.
func (l *locator) keyIndex(n *yaml.Node) map[string]int {
	if idx, ok := l.keys[n]; ok {
		return idx
	}
	if l.keys == nil {
		l.keys = map[*yaml.Node]map[string]int{}
	}
	idx := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := strings.ToLower(n.Content[i].Value)
		if _, dup := idx[k]; !dup {
			idx[k] = i
		}
	}
	l.keys[n] = idx
	return idx
}

// override returns the flag or variable that set key (or the key it is
// part of: batch_sizes[1] is part of batch_sizes), or "".
func (l *locator) override(key string) string {
	if l == nil {
		return ""
	}
	for k, src := range l.overrides {
		if key == k || strings.HasPrefix(key, k+".") || strings.HasPrefix(key, k+"[") {
			return src
		}
	}
	return ""
}

// errorf formats "file:line: key: message", or "source: key: message" when
// a flag or environment variable set the key.
func (l *locator) errorf(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	prefix := l.file
	if src := l.override(key); src != "" {
		prefix = src
	} else if ln := l.line(key); ln > 0 {
		prefix = fmt.Sprintf("%s:%d", l.file, ln)
	}
	if key == "" {
		return fmt.Errorf("%s: %s", prefix, msg)
	}
	return fmt.Errorf("%s: %s: %s", prefix, key, msg)
}

var (
	quoted  = regexp.MustCompile(`^'([^']*)' (.*)$`)
	invalid = regexp.MustCompile(`has invalid keys: (.*)$`)
	// typePrefix is the Go type mapstructure names the root by ("config.Config").
	typePrefix = regexp.MustCompile(`^[a-z]+\.[A-Z]\w*\.?`)
)

// decodeErrors turns mapstructure's messages into located, readable ones.
// base prefixes key paths (for a strategy entry: "strategies[2]").
func (l *locator) decodeErrors(err error, base string) Errors {
	var out Errors
	var unknown []unknownKey
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "* "))
		if line == "" || strings.HasPrefix(line, "decoding failed") || strings.HasSuffix(line, "error(s) decoding:") {
			continue
		}
		key, msg := "", line
		if m := quoted.FindStringSubmatch(line); m != nil {
			key, msg = m[1], m[2]
		}
		key = join(base, typePrefix.ReplaceAllString(key, ""))
		if l.failed == nil {
			l.failed = map[string]bool{}
		}
		l.failed[key] = true
		if m := invalid.FindStringSubmatch(msg); m != nil {
			for _, k := range strings.Split(m[1], ", ") {
				full := join(key, k)
				unknown = append(unknown, unknownKey{path: full, block: key, line: l.line(full)})
			}
			continue
		}
		msg = strings.ReplaceAll(msg, "unconvertible type", "")
		out = append(out, l.errorf(key, "%s", strings.Join(strings.Fields(msg), " ")))
	}
	out = append(l.unknownErrors(unknown), out...)
	if len(out) == 0 {
		out = append(out, l.errorf(base, "%v", err))
	}
	return out
}

func join(base, key string) string {
	switch {
	case base == "":
		return key
	case key == "":
		return base
	case strings.HasPrefix(key, "["):
		return base + key
	}
	return base + "." + key
}

// validKeys lists the keys a mapping at path takes ("" is the top level,
// "workload.dataset" a nested block), read from Config's mapstructure tags.
// It is nil for anything that is not a fixed block (strategies[] entries,
// whose keys depend on the strategy).
func validKeys(path string) []string {
	t := reflect.TypeOf(Config{})
	for _, m := range segment.FindAllStringSubmatch(path, -1) {
		if m[1] == "" {
			return nil
		}
		f, ok := fieldByTag(t, m[1])
		if !ok || f.Type.Kind() != reflect.Struct {
			return nil
		}
		t = f.Type
	}
	var keys []string
	for i := range t.NumField() {
		if tag := tagName(t.Field(i)); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); strings.EqualFold(tagName(f), name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tagName is a field's config key, or "" for fields that are not keys.
func tagName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	if name == "-" {
		return ""
	}
	return name
}
