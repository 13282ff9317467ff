// Package inputs makes the inputs a run feeds a model: generated, seeded
// values described by a Spec per input (Generate), or the tensors of an ONNX
// test-data directory (ReadTestData). Both give bytes per input, items ×
// Feed.ItemBytes each, in the dtype's little-endian layout; Interleave turns
// them into the item records ortbench carries (onnx.RecordBytes) and Split
// turns records back.
//
// Generated data is deterministic: the same feeds, specs, item count and
// seed give the same bytes on every run and machine of the same build
// (TestGenerateGolden pins them), so every strategy and the Python twin,
// which reads the same bytes from a file, see identical inputs.
package inputs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ortbench/ortbench/onnx"
)

// Kind is the kind of a Spec.
type Kind uint8

const (
	Uniform Kind = iota + 1 // floats uniform in [X, Y)
	Normal                  // floats normal, mean X, standard deviation Y
	Int                     // integers uniform in [Lo, Hi)
	Const                   // every element X (Lo exactly, when Exact)
	Column                  // a dataset column; parsed here, fed by the dataset
)

// Spec says how one input's values are made. The syntax (ParseSpec) is the
// same in YAML (workload.inputs) and on the command line (--input NAME=SPEC):
//
//	uniform:LO,HI   floats uniform in [LO, HI)
//	normal:MEAN,STD floats normal(MEAN, STD)
//	int:LO,HI       integers uniform in [LO, HI)
//	NUMBER          a constant (1, -0.5, 1e-3)
//	column:NAME     the dataset column NAME
type Spec struct {
	Kind   Kind
	X, Y   float64 // uniform: LO, HI; normal: MEAN, STD; constant: the value
	Lo, Hi int64   // int: [Lo, Hi); constant: the value when Exact
	Exact  bool    // constant: an integer, held exactly in Lo
	Column string  // column: the column's name
}

// ParseSpec parses one spec; an error is one line quoting it.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	kind, args, found := strings.Cut(s, ":")
	if !found {
		return parseConst(s)
	}
	var sp Spec
	var err error
	switch strings.TrimSpace(kind) {
	case "uniform":
		sp.Kind = Uniform
		sp.X, sp.Y, err = floatPair(args, "LO,HI")
		if err == nil && !(sp.X < sp.Y) {
			err = errors.New("LO must be below HI")
		}
	case "normal":
		sp.Kind = Normal
		sp.X, sp.Y, err = floatPair(args, "MEAN,STD")
		if err == nil && !(sp.Y > 0) {
			err = errors.New("STD must be above 0")
		}
	case "int":
		sp.Kind = Int
		sp.Lo, sp.Hi, err = intPair(args)
		if err == nil && sp.Lo >= sp.Hi {
			err = errors.New("LO must be below HI (HI is excluded)")
		}
	case "column":
		sp.Kind, sp.Column = Column, strings.TrimSpace(args)
		if sp.Column == "" {
			err = errors.New("no column name")
		}
	default:
		err = errors.New(grammar)
	}
	if err != nil {
		return Spec{}, fmt.Errorf("input spec %q: %w", s, err)
	}
	return sp, nil
}

const grammar = "want uniform:LO,HI, normal:MEAN,STD, int:LO,HI, column:NAME or a number"

// ParseInput parses the command line's NAME=SPEC.
func ParseInput(s string) (name string, sp Spec, err error) {
	name, spec, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", Spec{}, fmt.Errorf("input %q: want NAME=SPEC (%s)", s, grammar)
	}
	sp, err = ParseSpec(spec)
	return name, sp, err
}

func parseConst(s string) (Spec, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Spec{Kind: Const, X: float64(i), Lo: i, Exact: true}, nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return Spec{}, fmt.Errorf("input spec %q: %s (a constant must be a finite number)", s, grammar)
	}
	sp := Spec{Kind: Const, X: x}
	if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
		sp.Lo, sp.Exact = int64(x), true
	}
	return sp, nil
}

func floatPair(args, form string) (a, b float64, err error) {
	x, y, ok := strings.Cut(args, ",")
	if ok {
		a, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
	}
	if ok && err == nil {
		b, err = strconv.ParseFloat(strings.TrimSpace(y), 64)
	}
	if !ok || err != nil || math.IsInf(a, 0) || math.IsNaN(a) || math.IsInf(b, 0) || math.IsNaN(b) {
		return 0, 0, fmt.Errorf("want %s, two finite numbers", form)
	}
	return a, b, nil
}

func intPair(args string) (lo, hi int64, err error) {
	x, y, ok := strings.Cut(args, ",")
	if ok {
		lo, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	}
	if ok && err == nil {
		hi, err = strconv.ParseInt(strings.TrimSpace(y), 10, 64)
	}
	if !ok || err != nil {
		return 0, 0, errors.New("want int:LO,HI, two 64-bit integers")
	}
	return lo, hi, nil
}

// String is the spec in the syntax ParseSpec reads.
func (s Spec) String() string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch s.Kind {
	case Uniform:
		return "uniform:" + g(s.X) + "," + g(s.Y)
	case Normal:
		return "normal:" + g(s.X) + "," + g(s.Y)
	case Int:
		return "int:" + strconv.FormatInt(s.Lo, 10) + "," + strconv.FormatInt(s.Hi, 10)
	case Const:
		if s.Exact {
			return strconv.FormatInt(s.Lo, 10)
		}
		return g(s.X)
	case Column:
		return "column:" + s.Column
	}
	return "none"
}

// Default is the spec an input gets when the user gives none: floats
// uniform:0,1 (the range of normalized features and pixels, never NaN or
// huge); integers int:0,2 (0/1 is a valid token id, segment id
// (token_type_ids) and index into any axis of at least 2, and a valid
// mask); bool the constant 1 (bool inputs are mostly masks: all true keeps
// every element, the whole computation).
func Default(d onnx.DType) Spec {
	switch {
	case isFloat(d):
		return Spec{Kind: Uniform, X: 0, Y: 1}
	case d == onnx.DBool:
		return Spec{Kind: Const, X: 1, Lo: 1, Exact: true}
	}
	return Spec{Kind: Int, Lo: 0, Hi: 2}
}

func isFloat(d onnx.DType) bool {
	return d == onnx.DFloat32 || d == onnx.DFloat16 || d == onnx.DFloat64
}

// Check says whether the spec fits the input: uniform and normal only for
// float inputs, int for any, a constant representable in the dtype, every
// bound within the dtype's range (integers exact in a float dtype). A
// column is not checked here: the dataset's column is.
func (s Spec) Check(f onnx.Feed) error {
	var err error
	switch s.Kind {
	case Column:
		return nil
	case Uniform, Normal:
		err = s.checkFloat(f.DType)
	case Int:
		err = checkInts(f.DType, s.Lo, s.Hi-1)
	case Const:
		err = s.checkConst(f.DType)
	default:
		err = errors.New("no spec")
	}
	if err != nil {
		return fmt.Errorf("input %s (%s): %s: %w", f.Name, f.DType, s, err)
	}
	return nil
}

func (s Spec) checkFloat(d onnx.DType) error {
	if !isFloat(d) {
		return errors.New("uniform and normal are for float inputs; use int:LO,HI or a number")
	}
	if m := maxFloat(d); math.Abs(s.X) > m || math.Abs(s.Y) > m {
		return fmt.Errorf("outside %s's range ±%g", d, m)
	}
	return nil
}

func (s Spec) checkConst(d onnx.DType) error {
	if isFloat(d) {
		if m := maxFloat(d); math.Abs(s.X) > m {
			return fmt.Errorf("outside %s's range ±%g", d, m)
		}
		return nil
	}
	if !s.Exact {
		return fmt.Errorf("%s takes an integer constant", d)
	}
	return checkInts(d, s.Lo, s.Lo)
}

// checkInts says whether every integer in [lo, hi] is exact in d.
func checkInts(d onnx.DType, lo, hi int64) error {
	var min, max int64
	switch d {
	case onnx.DFloat16:
		min, max = -2048, 2048 // integers exact in the dtype's mantissa
	case onnx.DFloat32:
		min, max = -1<<24, 1<<24
	case onnx.DFloat64:
		min, max = -1<<53, 1<<53
	default:
		var ok bool
		if min, max, ok = d.IntRange(); !ok {
			return fmt.Errorf("dtype %s cannot be generated", d)
		}
	}
	if lo < min || hi > max {
		return fmt.Errorf("values outside %s's range [%d, %d]", d, min, max)
	}
	return nil
}

// maxFloat is the largest finite value of a float dtype.
func maxFloat(d onnx.DType) float64 {
	switch d {
	case onnx.DFloat16:
		return 65504
	case onnx.DFloat32:
		return math.MaxFloat32
	}
	return math.MaxFloat64
}
