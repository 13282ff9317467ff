package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/runner/regular"
)

// EnvPrefix prefixes environment overrides: ORTBENCH_REPETITIONS=3,
// ORTBENCH_OUTPUT_DIR=/tmp/r, ORTBENCH_SESSION_SPINNING=true.
const EnvPrefix = "ORTBENCH"

// FlagKeys maps command-line flag names to the config keys they override.
var FlagKeys = map[string]string{
	"repetitions":  "repetitions",
	"warmup":       "warmup_batches",
	"min-duration": "min_duration",
	"rows":         "workload.rows",
	"out":          "output.dir",
	"ort-lib":      "onnxruntime.library",
	"spinning":     "session.spinning",
	"seed":         "seed",
}

// Errors is every problem found in a config, one per line.
type Errors []error

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, err := range e {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// ErrInvalid marks configuration errors (exit code 2).
var ErrInvalid = errors.New("invalid config")

func (e Errors) Is(target error) bool { return target == ErrInvalid }

// Load reads path (or, when data is non-nil, data as if read from path),
// merges environment variables and the given flags, and decodes strictly.
// It does not touch models or datasets: Validate and Expand do.
//
// When the file can be read but some values cannot be decoded (unknown
// keys, wrong types), Load returns the Config decoded so far — every value
// that failed keeps its default — together with the Errors, so a caller can
// go on to Expand and report every problem of the file at once. A nil
// Config means nothing could be decoded (no file, not YAML, not a mapping).
func Load(path string, data []byte, flags *pflag.FlagSet) (*Config, error) {
	if data == nil {
		var err error
		data, err = readBounded(path)
		if err != nil {
			return nil, Errors{err}
		}
	}
	if len(data) > MaxFileBytes {
		return nil, Errors{fmt.Errorf("%s: %d bytes, more than a config file may hold (at most %d)", path, len(data), MaxFileBytes)}
	}
	loc, err := newLocator(path, data)
	if err != nil {
		return nil, Errors{err}
	}
	// Bounds and unknown keys first, in one linear walk of the tree; viper
	// then decodes the file without its unknown keys.
	data, unknown, err := loc.screen(data)
	if err != nil {
		return nil, Errors{err}
	}
	v := viper.New()
	v.SetConfigType("yaml")
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		// One line, whatever the YAML library wrote.
		return nil, Errors{fmt.Errorf("%s: %s", path, strings.Join(strings.Fields(err.Error()), " "))}
	}
	loc.overrides = map[string]string{}
	for k := range defaults {
		if name := EnvName(k); os.Getenv(name) != "" {
			loc.overrides[k] = "$" + name
		}
	}
	if flags != nil {
		for name, key := range FlagKeys {
			if f := flags.Lookup(name); f != nil && f.Changed {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, Errors{err}
				}
				loc.overrides[key] = "--" + name
			}
		}
	}
	cfg := &Config{}
	// Defaults first, so a value that fails to decode keeps its default and
	// Expand does not report it a second time as out of range.
	if err := decode(defaultSettings(), cfg); err != nil {
		return nil, Errors{fmt.Errorf("defaults: %v", err)}
	}
	errs := loc.unknownErrors(unknown)
	errs = append(errs, unknownEnv(os.Environ())...) // env.go
	// strictHook: whole numbers for integer keys, units on durations,
	// finite floats — the same meaning as in strategies[] entries.
	err = v.UnmarshalExact(cfg, func(dc *mapstructure.DecoderConfig) {
		dc.WeaklyTypedInput = false
		dc.DecodeHook = strictHook()
	})
	if err != nil {
		errs = append(errs, loc.decodeErrors(err, "")...)
	}
	cfg.Path = path
	cfg.Dir = filepath.Dir(path)
	if cfg.Name == "" {
		cfg.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	cfg.loc = loc
	cfg.render()
	if len(errs) > 0 {
		return cfg, errs
	}
	return cfg, nil
}

// readBounded reads a config file, at most MaxFileBytes+1 of it (so
// -c /dev/zero or a huge file is refused, not read to the end).
func readBounded(path string) ([]byte, error) {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		// Before the open: opening a FIFO blocks until a writer comes.
		if err := regular.Check(path); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, want a YAML file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, unwrapPathError(err))
	}
	return data, nil
}

// EnvName is the environment variable that overrides key:
// "workload.rows" → ORTBENCH_WORKLOAD_ROWS.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// defaultSettings is defaults as the nested map viper would hand over.
func defaultSettings() map[string]any {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	return v.AllSettings()
}

func decode(in map[string]any, out *Config) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{DecodeHook: decodeHook(), Result: out})
	if err != nil {
		return err
	}
	return dec.Decode(in)
}

// SetLibrary records the ONNX Runtime library that was actually loaded (an
// absolute path; "" keeps the configured one) and renders Resolved and
// SHA256 again. Call it once the workload is known to be ready: Expand may
// also have filled in values (workload.kind) that belong in the record.
func (c *Config) SetLibrary(path string) {
	if path != "" {
		c.ONNXRuntime.Library = path
	}
	c.render()
}

// resolvedHeader opens every config.resolved.yaml.
const resolvedHeader = `# The configuration this run used: the file as given, with flags, ORTBENCH_*
# variables and defaults applied and every path absolute.
# Re-run it as is with: ortbench run -c config.resolved.yaml
`

// render sets Resolved to the decoded, typed configuration as YAML — every
// key, in the order of the Config struct, paths made absolute, durations as
// Go duration strings, strategies[] entries as given — and SHA256 to the
// hash of the same text without output.dir, so two runs with the same
// SHA256 ran the same configuration whatever flags or variables produced it
// and wherever they wrote.
func (c *Config) render() {
	r := *c
	abs := func(p string) string {
		if p == "" {
			return ""
		}
		a, err := filepath.Abs(c.Abs(p))
		if err != nil {
			return c.Abs(p)
		}
		return a
	}
	r.Workload.Model = abs(c.Workload.Model)
	r.Workload.Dataset.Path = abs(c.Workload.Dataset.Path)
	r.Verify.Expected = abs(c.Verify.Expected)
	r.ONNXRuntime.Library = abs(c.ONNXRuntime.Library)
	if d, err := filepath.Abs(c.Output.Dir); err == nil && c.Output.Dir != "" {
		// output.dir is relative to where ortbench runs, not to the file.
		r.Output.Dir = d
	}
	c.Resolved = renderYAML(r)
	// The hash names what was measured, not where it was written: two runs
	// of one config into different folders share it.
	r.Output.Dir = ""
	sum := sha256.Sum256(renderYAML(r))
	c.SHA256 = hex.EncodeToString(sum[:])
}

// renderYAML is config.resolved.yaml's text for r.
func renderYAML(r Config) []byte {
	var buf bytes.Buffer
	buf.WriteString(resolvedHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(encodeNode(reflect.ValueOf(r))); err != nil {
		// Every value is a string, number, bool or list of them: cannot happen.
		fmt.Fprintf(&buf, "# cannot render the configuration: %v\n", err)
	}
	_ = enc.Close()
	return buf.Bytes()
}

var durationType = reflect.TypeOf(time.Duration(0))

// encodeNode turns a config value into YAML: structs by their mapstructure
// tags in field order, durations as strings, lists of plain values on one
// line, and strategies[] maps with their strategy key first.
func encodeNode(v reflect.Value) *yaml.Node {
	switch {
	case v.Type() == durationType:
		return scalarNode(time.Duration(v.Int()).String())
	case v.Kind() == reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			name := tagName(v.Type().Field(i))
			if name == "" {
				continue
			}
			n.Content = append(n.Content, scalarNode(name), encodeNode(v.Field(i)))
		}
		return n
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Map:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			n.Content = append(n.Content, encodeMap(v.Index(i).Interface().(map[string]any)))
		}
		return n
	}
	n := &yaml.Node{}
	if err := n.Encode(v.Interface()); err != nil {
		return scalarNode(fmt.Sprint(v.Interface()))
	}
	flowLists(n)
	return n
}

// encodeMap writes one strategies[] entry: strategy first, then the other
// keys in order.
func encodeMap(m map[string]any) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "strategy" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := m["strategy"]; ok {
		keys = append([]string{"strategy"}, keys...)
	}
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		val := &yaml.Node{}
		if err := val.Encode(m[k]); err != nil {
			val = scalarNode(fmt.Sprint(m[k]))
		}
		flowLists(val)
		n.Content = append(n.Content, scalarNode(k), val)
	}
	return n
}

func scalarNode(s string) *yaml.Node {
	n := &yaml.Node{}
	_ = n.Encode(s)
	return n
}

// flowLists writes lists of plain values as [1, 64].
func flowLists(n *yaml.Node) {
	for _, c := range n.Content {
		flowLists(c)
	}
	if n.Kind != yaml.SequenceNode {
		return
	}
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return
		}
	}
	n.Style = yaml.FlowStyle
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decodeHook turns single values into one-element sweeps, strings (from the
// environment or flags) into numbers and bools, and durations into
// time.Duration — and nothing else, so `workers: true` stays an error.
func decodeHook() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		func(from, to reflect.Type, data any) (any, error) {
			s, ok := data.(string)
			if !ok {
				return data, nil
			}
			switch to.Kind() {
			case reflect.Int, reflect.Int64:
				if to.String() == "time.Duration" {
					return data, nil
				}
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					return nil, fmt.Errorf("%q is not an integer", s)
				}
				return n, nil
			case reflect.Float64:
				f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil {
					return nil, fmt.Errorf("%q is not a number", s)
				}
				return f, nil
			case reflect.Bool:
				b, err := strconv.ParseBool(strings.TrimSpace(s))
				if err != nil {
					return nil, fmt.Errorf("%q is not true or false", s)
				}
				return b, nil
			case reflect.Slice:
				// ORTBENCH_BATCH_SIZES="1,8,64" or a flag: comma-separated
				// (ORTBENCH_PERCENTILES="50,99.99" too).
				if k := to.Elem().Kind(); k == reflect.Int || k == reflect.String || k == reflect.Bool || k == reflect.Float64 {
					parts := strings.Split(s, ",")
					out := make([]any, 0, len(parts))
					for _, p := range parts {
						if p = strings.TrimSpace(p); p != "" {
							out = append(out, p)
						}
					}
					return out, nil
				}
			}
			return data, nil
		},
		func(from, to reflect.Type, data any) (any, error) {
			if to.Kind() != reflect.Slice || from.Kind() == reflect.Slice {
				return data, nil
			}
			switch to {
			case reflect.TypeOf(IntList{}), reflect.TypeOf(StringList{}), reflect.TypeOf(BoolList{}):
				return []any{data}, nil
			}
			return data, nil
		},
	)
}
