package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// maxInt is the largest integer a config value may hold: beyond 2^53 a
// YAML number has already lost precision as a float.
const maxInt = 1 << 53

// strictHook decodes numbers without changing their meaning: an integer
// key takes only whole numbers in range (1.5 and 1e20 are errors, not 1 and
// a wrapped negative), a duration needs a unit ("5" is not 5ns), and
// strings from the environment or flags are parsed as the key's type.
func strictHook() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(strictNumbers, decodeHook())
}

func strictNumbers(from, to reflect.Type, data any) (any, error) {
	if to == reflect.TypeOf(time.Duration(0)) {
		switch v := data.(type) {
		case int, int64, uint64, float64:
			if v == 0 || v == 0.0 {
				return "0s", nil
			}
			return nil, fmt.Errorf("%v needs a unit (for example %vms or %vs)", v, v, v)
		}
		return data, nil
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		switch v := data.(type) {
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) {
				return nil, fmt.Errorf("%v is not a whole number", v)
			}
			if math.Abs(v) > maxInt {
				return nil, fmt.Errorf("%v is out of range (at most %d)", v, maxInt)
			}
			return int(v), nil
		case uint64:
			if v > maxInt {
				return nil, fmt.Errorf("%d is out of range (at most %d)", v, maxInt)
			}
			return int(v), nil
		case int:
			if v > maxInt || v < -maxInt {
				return nil, fmt.Errorf("%d is out of range (at most %d)", v, maxInt)
			}
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", v)
			}
			if n > maxInt || n < -maxInt {
				return nil, fmt.Errorf("%d is out of range (at most %d)", n, maxInt)
			}
			return int(n), nil
		}
	case reflect.Float64:
		var f float64
		switch v := data.(type) {
		case float64:
			f = v
		case string:
			p, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", v)
			}
			f = p
		default:
			return data, nil
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%v is not a finite number", f)
		}
		return f, nil
	}
	return data, nil
}
