package inputs

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/ortbench/ortbench/onnx"
)

// Validate checks specs against the model's feeds: every spec names an
// input, and fits it (Spec.Check). Inputs without a spec take Default.
func Validate(feeds []onnx.Feed, specs map[string]Spec) error {
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	slices.Sort(names) // the first error is the same on every run
	for _, n := range names {
		i := slices.IndexFunc(feeds, func(f onnx.Feed) bool { return f.Name == n })
		if i < 0 {
			return fmt.Errorf("input %s: the model has no such input (inputs: %s)", n, feedNames(feeds))
		}
		if err := specs[n].Check(feeds[i]); err != nil {
			return err
		}
	}
	return nil
}

func feedNames(feeds []onnx.Feed) string {
	names := make([]string, len(feeds))
	for i, f := range feeds {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// Bytes is the memory Generate takes for items items of every input
// (items × RecordBytes), saturating at MaxInt64, so a caller can refuse a
// size before anything is allocated.
func Bytes(feeds []onnx.Feed, items int) int64 {
	if items <= 0 {
		return 0
	}
	var total uint64
	for _, f := range feeds {
		per := uint64(f.DType.Size())
		for _, d := range f.Item {
			hi, lo := bits.Mul64(per, uint64(max(d, 0)))
			if hi != 0 || lo > math.MaxInt64 {
				return math.MaxInt64
			}
			per = lo
		}
		hi, n := bits.Mul64(per, uint64(items))
		if hi != 0 || n > math.MaxInt64-total {
			return math.MaxInt64
		}
		total += n
	}
	return int64(total)
}

// maxBytes is beyond any machine's memory, and below what make refuses
// with a panic (2^48 on amd64): sizes above it are an error here; below it
// the caller compares Bytes with the memory it has.
const maxBytes = 1 << 46

// Generate makes items items of every input from its spec (Default where
// specs has none): per input, items × ItemBytes bytes in the dtype's
// little-endian layout. An input whose spec is a Column gets nil: the
// dataset fills it. Each input draws from its own PCG stream, seeded from
// seed and the input's index, so adding a spec for one input leaves the
// others' values as they were. Floats are drawn in float64 and rounded to
// the dtype (float16 through float32), so a uniform value may round to HI.
func Generate(feeds []onnx.Feed, specs map[string]Spec, items int, seed uint64) ([][]byte, error) {
	if items < 0 {
		return nil, fmt.Errorf("generate: %d items", items)
	}
	if err := Validate(feeds, specs); err != nil {
		return nil, err
	}
	if Bytes(feeds, items) > maxBytes {
		return nil, fmt.Errorf("generate: %d items take more than 64 TiB: they do not fit in memory", items)
	}
	out := make([][]byte, len(feeds))
	for i, f := range feeds {
		sp, ok := specs[f.Name]
		if !ok {
			sp = Default(f.DType)
			if err := sp.Check(f); err != nil {
				return nil, err
			}
		}
		if sp.Kind == Column {
			continue
		}
		out[i] = make([]byte, items*f.ItemBytes())
		fill(out[i], f.DType, sp, newStream(seed, i))
	}
	return out, nil
}

// stream is one input's random source.
type stream struct {
	pcg  *rand.PCG
	rand *rand.Rand // for NormFloat64; draws from pcg
}

// newStream seeds input i's stream: both PCG words come from splitmix64 of
// the seed and the index, so neighbouring inputs' streams are unrelated.
func newStream(seed uint64, i int) *stream {
	a := splitmix(seed ^ splitmix(uint64(i)+1))
	p := rand.NewPCG(a, splitmix(a))
	return &stream{pcg: p, rand: rand.New(p)}
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// unit is uniform in [0, 1), 53 random bits.
func (s *stream) unit() float64 { return float64(s.pcg.Uint64()>>11) * 0x1p-53 }

// below is uniform in [0, n), unbiased (Lemire's multiply and reject);
// n = 0 stands for 2^64.
func (s *stream) below(n uint64) uint64 {
	if n == 0 {
		return s.pcg.Uint64()
	}
	hi, lo := bits.Mul64(s.pcg.Uint64(), n)
	if lo < n {
		for thresh := -n % n; lo < thresh; {
			hi, lo = bits.Mul64(s.pcg.Uint64(), n)
		}
	}
	return hi
}

// fill writes buf from the spec. The conversions in float64(w*u) stop the
// compiler fusing the multiply-add (it does on arm64), which would round
// differently from amd64: the same seed must give the same bytes everywhere.
func fill(buf []byte, d onnx.DType, sp Spec, s *stream) {
	span := uint64(sp.Hi) - uint64(sp.Lo) // wraps correctly for any Lo < Hi
	switch {
	case sp.Kind == Const:
		constant(buf, d, sp)
	case sp.Kind == Int && !isFloat(d):
		putInts(buf, d, func() int64 { return sp.Lo + int64(s.below(span)) })
	case sp.Kind == Int:
		putFloats(buf, d, func() float64 { return float64(sp.Lo + int64(s.below(span))) })
	case sp.Kind == Uniform && d == onnx.DFloat32:
		uniform32(buf, sp.X, sp.Y-sp.X, s)
	case sp.Kind == Normal:
		putFloats(buf, d, func() float64 { return sp.X + float64(sp.Y*s.rand.NormFloat64()) })
	default:
		lo, w := sp.X, sp.Y-sp.X
		putFloats(buf, d, func() float64 { return lo + float64(w*s.unit()) })
	}
}

// uniform32 is the common case (images, features) without a call per
// element; it writes what putFloats would.
func uniform32(buf []byte, lo, w float64, s *stream) {
	for i := 0; i+4 <= len(buf); i += 4 {
		u := float64(s.pcg.Uint64()>>11) * 0x1p-53
		binary.LittleEndian.PutUint32(buf[i:], math.Float32bits(float32(lo+float64(w*u))))
	}
}

// constant writes one element and copies it over the buffer.
func constant(buf []byte, d onnx.DType, sp Spec) {
	if len(buf) == 0 {
		return
	}
	n := d.Size()
	if isFloat(d) {
		putFloats(buf[:n], d, func() float64 { return sp.X })
	} else {
		putInts(buf[:n], d, func() int64 { return sp.Lo })
	}
	for i := n; i < len(buf); i *= 2 {
		copy(buf[i:], buf[:i])
	}
}

func putFloats(buf []byte, d onnx.DType, next func() float64) {
	le := binary.LittleEndian
	switch d {
	case onnx.DFloat32:
		for i := 0; i+4 <= len(buf); i += 4 {
			le.PutUint32(buf[i:], math.Float32bits(float32(next())))
		}
	case onnx.DFloat64:
		for i := 0; i+8 <= len(buf); i += 8 {
			le.PutUint64(buf[i:], math.Float64bits(next()))
		}
	case onnx.DFloat16:
		for i := 0; i+2 <= len(buf); i += 2 {
			le.PutUint16(buf[i:], Float16(float32(next())))
		}
	}
}

// putInts writes integers already checked to fit d (Spec.Check).
func putInts(buf []byte, d onnx.DType, next func() int64) {
	le := binary.LittleEndian
	switch d.Size() {
	case 8:
		for i := 0; i+8 <= len(buf); i += 8 {
			le.PutUint64(buf[i:], uint64(next()))
		}
	case 4:
		for i := 0; i+4 <= len(buf); i += 4 {
			le.PutUint32(buf[i:], uint32(next()))
		}
	case 1: // int8, uint8, bool
		for i := range buf {
			buf[i] = byte(next())
		}
	}
}
