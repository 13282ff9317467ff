package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/runner/results"
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
func Load(path string, data []byte, flags *pflag.FlagSet) (*Config, error) {
	if data == nil {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			return nil, Errors{fmt.Errorf("%s: %v", path, unwrapPathError(err))}
		}
	}
	loc, err := newLocator(path, data)
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
		return nil, Errors{fmt.Errorf("%s: %v", path, err)}
	}
	if flags != nil {
		for name, key := range FlagKeys {
			if f := flags.Lookup(name); f != nil && f.Changed {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, Errors{err}
				}
			}
		}
	}
	cfg := &Config{}
	err = v.UnmarshalExact(cfg, func(dc *mapstructure.DecoderConfig) {
		dc.WeaklyTypedInput = false
		dc.DecodeHook = decodeHook()
	})
	if err != nil {
		return nil, loc.decodeErrors(err, "")
	}
	if len(cfg.Output.Formats) == 0 {
		// Every format this binary knows: json, csv, parquet, benchfmt, and
		// html where the report package is registered (the CLI does).
		cfg.Output.Formats = results.Formats()
	}
	sum := sha256.Sum256(data)
	cfg.Path, cfg.SHA256 = path, hex.EncodeToString(sum[:])
	cfg.Dir = filepath.Dir(path)
	if cfg.Name == "" {
		cfg.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	all := v.AllSettings()
	if resolved, err := yaml.Marshal(all); err == nil {
		cfg.Resolved = resolved
	}
	cfg.loc = loc
	return cfg, nil
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
				// ORTBENCH_BATCH_SIZES="1,8,64" or a flag: comma-separated.
				if to.Elem().Kind() == reflect.Int || to.Elem().Kind() == reflect.String || to.Elem().Kind() == reflect.Bool {
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
