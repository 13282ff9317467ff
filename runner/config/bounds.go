package config

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bounds on an experiment file, checked on its YAML tree before anything
// else reads it, so a hostile file costs linear time and bounded memory:
// an experiment file is a few kilobytes, five levels deep, with tens of keys.
const (
	// MaxFileBytes is the largest config file read.
	MaxFileBytes = 1 << 20
	// MaxDepth is the deepest nesting of mappings and lists (a config
	// needs five: strategies → entry → workers → value).
	MaxDepth = 16
	// MaxMappingKeys is the most keys one mapping may hold once unknown
	// keys of the fixed blocks are set aside (a strategy entry takes < 10).
	MaxMappingKeys = 1000
	// MaxListItems is the longest list (a sweep of 1000 values is already
	// more cells than MaxCells allows).
	MaxListItems = 10000
	// unknownListed is how many unknown keys get a line each; beyond it,
	// they are summarised on one line with their count.
	unknownListed = 5
)

// unknownKey is a key of a fixed block (top level, workload, session, …)
// that the block does not take.
type unknownKey struct {
	path, block string
	line        int
}

// screen checks data's YAML tree against the bounds and sets aside every
// unknown key of the fixed blocks, in one linear walk. It returns the
// document to hand to viper (data itself, or the tree without its unknown
// keys, so a file of 40,000 misspelt keys does not reach viper's
// quadratic duplicate-key check), the unknown keys, and a fatal error when
// a bound is exceeded (the file is not decoded further).
func (l *locator) screen(data []byte) ([]byte, []unknownKey, error) {
	if l.root == nil {
		return nil, nil, fmt.Errorf("%s: empty file (an experiment needs at least workload and strategies; see configs/quick.yaml)", l.file)
	}
	if err := l.bounded(l.root); err != nil {
		return nil, nil, err
	}
	var unknown []unknownKey
	var errs Errors
	clean := l.strip(l.root, reflect.TypeOf(Config{}), "", &unknown, &errs)
	if err := l.wide(clean); err != nil {
		return nil, nil, err
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	if len(unknown) == 0 {
		return data, nil, nil
	}
	out, err := yaml.Marshal(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{clean}})
	if err != nil {
		// Anchors used across a removed key, say: decode the file as is.
		return data, unknown, nil
	}
	return out, unknown, nil
}

// bounded checks depth and list length, iteratively deep-first.
func (l *locator) bounded(root *yaml.Node) error {
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{root, 1}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > MaxDepth {
			return fmt.Errorf("%s:%d: nested more than %d levels deep (an experiment file needs 5)", l.file, it.n.Line, MaxDepth)
		}
		if it.n.Kind == yaml.SequenceNode && len(it.n.Content) > MaxListItems {
			return fmt.Errorf("%s:%d: a list of %d items (at most %d)", l.file, it.n.Line, len(it.n.Content), MaxListItems)
		}
		for _, c := range it.n.Content {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return nil
}

// wide checks the key count of every mapping left after strip.
func (l *locator) wide(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode && len(n.Content)/2 > MaxMappingKeys {
		return fmt.Errorf("%s:%d: a mapping of %d keys (at most %d)", l.file, n.Line, len(n.Content)/2, MaxMappingKeys)
	}
	for _, c := range n.Content {
		if err := l.wide(c); err != nil {
			return err
		}
	}
	return nil
}

// strip returns n without the keys that the struct type t (a fixed block)
// does not take, collecting them into unknown. Mappings that are not fixed
// blocks (strategies[] entries) are kept whole. n itself is not changed.
//
// It also reports, into errs, a key given twice in one mapping (the YAML
// library would otherwise say so in several lines, quadratically).
func (l *locator) strip(n *yaml.Node, t reflect.Type, path string, unknown *[]unknownKey, errs *Errors) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		l.duplicates(n, path, errs)
	}
	if n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if c.Kind == yaml.MappingNode {
					l.duplicates(c, fmt.Sprintf("%s[%d]", path, i), errs)
				}
			}
		}
		return n
	}
	fields := tagFields(t)
	out := *n
	out.Content = make([]*yaml.Node, 0, len(n.Content))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[strings.ToLower(k.Value)]
		if !ok || k.Kind != yaml.ScalarNode {
			*unknown = append(*unknown, unknownKey{path: join(path, k.Value), block: path, line: k.Line})
			continue
		}
		out.Content = append(out.Content, k, l.strip(v, ft, join(path, k.Value), unknown, errs))
	}
	return &out
}

// duplicates reports a key given twice in mapping n (case ignored, as
// viper ignores it), in linear time.
func (l *locator) duplicates(n *yaml.Node, path string, errs *Errors) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		lk := strings.ToLower(k.Value)
		if first, dup := seen[lk]; dup {
			*errs = append(*errs, fmt.Errorf("%s:%d: %s: given twice (first at line %d); keep one", l.file, k.Line, join(path, k.Value), first))
			continue
		}
		seen[lk] = k.Line
	}
}

// tagFields maps a struct's config keys (lower case) to their types.
func tagFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			m[strings.ToLower(name)] = t.Field(i).Type
		}
	}
	return m
}

// unknownErrors reports unknown keys: one line each for the first few,
// or, when there are more, one line with the first few and the count.
func (l *locator) unknownErrors(keys []unknownKey) Errors {
	if len(keys) == 0 {
		return nil
	}
	if len(keys) <= unknownListed {
		var out Errors
		for _, k := range keys {
			out = append(out, l.unknownError(k))
		}
		return out
	}
	names := make([]string, unknownListed)
	for i, k := range keys[:unknownListed] {
		names[i] = fmt.Sprintf("%s (line %d)", k.path, k.line)
	}
	return Errors{fmt.Errorf("%s:%d: %d unknown keys: %s and %d more (check the spelling; see README's config reference)",
		l.file, keys[0].line, len(keys), strings.Join(names, ", "), len(keys)-unknownListed)}
}

func (l *locator) unknownError(k unknownKey) error {
	leaf := k.path[strings.LastIndex(k.path, ".")+1:]
	hint := "check the spelling; see README's config reference"
	if s := Suggest(leaf, validKeys(k.block)); s != "" {
		hint = "did you mean " + s + "?"
	}
	prefix := l.file
	if src := l.override(k.path); src != "" {
		prefix = src
	} else if k.line > 0 {
		prefix = fmt.Sprintf("%s:%d", l.file, k.line)
	}
	return fmt.Errorf("%s: %s: unknown key (%s)", prefix, k.path, hint)
}
