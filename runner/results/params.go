package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Param is one key of a cell's identity: a strategy setting as the config
// names it (workers, threads, batch_size, …) with its resolved value.
// Value is an int64, a float64, a bool or a string.
type Param struct {
	Key   string
	Value any
}

// Params is a cell's ordered parameter list. It is the one source every
// output is made from: the cell name, results.json's params object, the
// CSV/Parquet columns, bench.txt names, the report and compare's matching key.
type Params []Param

// Get returns the value of key, if the list has it.
func (ps Params) Get(key string) (any, bool) {
	for _, p := range ps {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// Int returns an integer parameter, or 0 when the list lacks it.
func (ps Params) Int(key string) int {
	v, _ := ps.Get(key)
	n, _ := v.(int64)
	return int(n)
}

// String returns a string parameter, or "" when the list lacks it.
func (ps Params) String(key string) string {
	v, _ := ps.Get(key)
	s, _ := v.(string)
	return s
}

// FormatValue is how a parameter value is written in names and tables.
func FormatValue(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case string:
		return v
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// Path is "key=value/key=value/…" in list order.
func (ps Params) Path() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Key + "=" + FormatValue(p.Value)
	}
	return strings.Join(parts, "/")
}

// MarshalJSON writes the list as one JSON object, keys in list order.
func (ps Params) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(p.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, fmt.Errorf("param %s: %w", p.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object back in its written order; whole numbers
// become int64, other numbers float64.
func (ps *Params) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*ps = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("params: want an object, got %v", tok)
	}
	var out Params
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		switch x := vt.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				v = n
			} else if f, err := x.Float64(); err == nil {
				v = f
			} else {
				return fmt.Errorf("params.%s: %v", key, err)
			}
		case string, bool:
			v = x
		default:
			return fmt.Errorf("params.%s: want a number, a string or a bool, got %v", key, vt)
		}
		out = append(out, Param{Key: key, Value: v})
	}
	*ps = out
	return nil
}

// ParamKey declares one parameter column: its key and its value type
// ("int", "float", "bool" or "string").
type ParamKey struct {
	Key  string `json:"key"`
	Type string `json:"type"`
}

// TypeOf names a parameter value's type as ParamKey.Type does.
func TypeOf(v any) string {
	switch v.(type) {
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	}
	return "string"
}

// paramKeys is the run's declared parameter columns, or, for a results file
// without them, the union of its cells' keys in order of first appearance.
func paramKeys(r *Run) []ParamKey {
	if len(r.ParamKeys) > 0 {
		return r.ParamKeys
	}
	var keys []ParamKey
	seen := map[string]bool{}
	for i := range r.Cells {
		for _, p := range r.Cells[i].Params {
			if !seen[p.Key] {
				seen[p.Key] = true
				keys = append(keys, ParamKey{Key: p.Key, Type: TypeOf(p.Value)})
			}
		}
	}
	return keys
}

// NewParams builds a list from key, value pairs; ints become int64.
func NewParams(kv ...any) Params {
	var ps Params
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		ps = append(ps, Param{Key: kv[i].(string), Value: v})
	}
	return ps
}
