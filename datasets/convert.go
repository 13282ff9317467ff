package datasets

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// blockBytes bounds the slice of dst that the column-wise conversion sweeps
// before moving to the next rows, so that the strided writes of all the
// columns hit cache lines that are still in L2.
const blockBytes = 64 << 10

// convert fills dst (k rows) and, if lab is not nil, lab from rows
// [curOff, curOff+k) of the current batch.
func (r *Reader) convert(dst []float32, lab []int64, k int) error {
	off := r.curOff
	if r.tensorCol >= 0 {
		lst, ok := r.cur.Column(r.tensorCol).(*array.FixedSizeList)
		if !ok {
			return errorf(r.path, "tensor column %q holds %s in a batch, unlike its schema: the file is corrupt",
				r.cur.ColumnName(r.tensorCol), typeName(r.cur.Column(r.tensorCol).DataType()))
		}
		if err := r.convertTensor(dst, lst, off, k); err != nil {
			return err
		}
	} else {
		block := max(1, blockBytes/4/r.width)
		for b := 0; b < k; b += block {
			n := min(block, k-b)
			rows := dst[b*r.width : (b+n)*r.width]
			for j, c := range r.cols {
				if err := r.convertColumn(rows, j, r.width, r.cur.Column(c), off+b, n, r.names[j]); err != nil {
					return err
				}
			}
		}
	}
	if lab != nil && r.labelCol >= 0 {
		return r.convertLabels(lab, r.cur.Column(r.labelCol), off, k)
	}
	return nil
}

// convertColumn writes rows [off, off+n) of arr to dst[i*stride+col].
func (r *Reader) convertColumn(dst []float32, col, stride int, arr arrow.Array, off, n int, name string) error {
	d := dst[col:]
	switch a := arr.(type) {
	case *array.Float32:
		src := a.Float32Values()[off : off+n]
		if err := r.checkFloat32(src, off, name); err != nil {
			return err
		}
		scatter(d, src, stride)
	case *array.Float64:
		src := a.Float64Values()[off : off+n]
		if err := checkFloats(r, src, off, name); err != nil {
			return err
		}
		scatter(d, src, stride)
	case *array.Float16:
		src := a.Values()[off : off+n]
		for i, v := range src {
			if (v.IsNaN() || v.IsInf()) && !r.allowNaN {
				return r.nanError(off+i, name, nonFinite(float64(v.Float32())))
			}
			d[i*stride] = v.Float32()
		}
	case *array.Int8:
		scatter(d, a.Int8Values()[off:off+n], stride)
	case *array.Int16:
		scatter(d, a.Int16Values()[off:off+n], stride)
	case *array.Int32:
		src := a.Int32Values()[off : off+n]
		if err := exactInts(r, src, arr, off, name); err != nil {
			return err
		}
		scatter(d, src, stride)
	case *array.Int64:
		src := a.Int64Values()[off : off+n]
		if err := exactInts(r, src, arr, off, name); err != nil {
			return err
		}
		scatter(d, src, stride)
	case *array.Uint8:
		scatter(d, a.Uint8Values()[off:off+n], stride)
	case *array.Uint16:
		scatter(d, a.Uint16Values()[off:off+n], stride)
	case *array.Uint32:
		src := a.Uint32Values()[off : off+n]
		if err := exactUints(r, src, arr, off, name); err != nil {
			return err
		}
		scatter(d, src, stride)
	case *array.Uint64:
		src := a.Uint64Values()[off : off+n]
		if err := exactUints(r, src, arr, off, name); err != nil {
			return err
		}
		scatter(d, src, stride)
	case *array.Dictionary:
		if err := r.convertDictionary(d, stride, a, off, n, name); err != nil {
			return err
		}
	default:
		// resolve admits only the types above; a file whose batches
		// disagree with its schema is corrupt.
		return errorf(r.path, "column %q holds %s in a batch, unlike its schema: the file is corrupt", name, typeName(arr.DataType()))
	}
	return r.applyNulls(d, stride, arr, off, n, func(int) string { return name })
}

// dictValues returns a dictionary column's values as float32, decoded once
// per record batch (null values read as NaN).
func (r *Reader) dictValues(a *array.Dictionary, name string) ([]float32, error) {
	dict := a.Dictionary()
	if v, ok := r.dicts[dict]; ok {
		return v, nil
	}
	vals := make([]float32, dict.Len())
	// Decode with NaN allowed: only the values rows use are checked.
	tmp := &Reader{path: r.path, allowNaN: true}
	if err := tmp.convertColumn(vals, 0, 1, dict, 0, dict.Len(), name); err != nil {
		return nil, err
	}
	if r.dicts == nil {
		r.dicts = make(map[arrow.Array][]float32)
	}
	r.dicts[dict] = vals
	return vals, nil
}

// convertDictionary writes rows [off, off+n) of a dictionary-encoded column,
// looking each row's value up in the decoded dictionary.
func (r *Reader) convertDictionary(d []float32, stride int, a *array.Dictionary, off, n int, name string) error {
	vals, err := r.dictValues(a, name)
	if err != nil {
		return err
	}
	dict := a.Dictionary()
	for i := range n {
		if a.IsNull(off + i) {
			continue // applyNulls
		}
		k := a.GetValueIndex(off + i)
		if k < 0 || k >= len(vals) {
			return errorf(r.path, "column %q row %d: dictionary index %d is out of range (%d values): the file is corrupt", name, r.done+int64(off+i-r.curOff), k, len(vals))
		}
		v := vals[k]
		if !r.allowNaN && !isFinite(v) {
			what := nonFinite(float64(v))
			if dict.IsNull(k) {
				what = "null"
			}
			return r.nanError(off+i, name, what)
		}
		d[i*stride] = v
	}
	return nil
}

// convertTensor copies rows [off, off+n) of a fixed_size_list column, which
// are already row-major and contiguous in its child array.
func (r *Reader) convertTensor(dst []float32, lst *array.FixedSizeList, off, n int) error {
	w := r.width
	start, _ := lst.ValueOffsets(off)
	child := lst.ListValues()
	lo, hi := int(start), int(start)+n*w
	if lo < 0 || hi > child.Len() {
		return errorf(r.path, "tensor column values end at %d, want %d: the file is corrupt", child.Len(), hi)
	}
	name := func(i int) string { return r.names[i%w] }
	if err := r.convertColumn(dst, 0, 1, child, lo, n*w, ""); err != nil {
		if ne, ok := err.(*nanErr); ok {
			// Report the row and feature, not the child array's index.
			i := ne.row - lo
			e := r.nanError(off+i/w, name(i), ne.what).(*nanErr)
			e.lossy = ne.lossy
			return e
		}
		return err
	}
	if lst.NullN() > 0 {
		for i := range n {
			if lst.IsNull(off + i) {
				if !r.allowNaN {
					return r.nanError(off+i, r.cur.ColumnName(r.tensorCol), "null")
				}
				row := dst[i*w : (i+1)*w]
				for j := range row {
					row[j] = float32(math.NaN())
				}
			}
		}
	}
	return nil
}

// applyNulls rejects nulls, or with AllowNaN writes NaN for them.
func (r *Reader) applyNulls(d []float32, stride int, arr arrow.Array, off, n int, name func(int) string) error {
	if arr.NullN() == 0 {
		return nil
	}
	for i := range n {
		if arr.IsNull(off + i) {
			if !r.allowNaN {
				return r.nanError(off+i, name(off+i), "null")
			}
			d[i*stride] = float32(math.NaN())
		}
	}
	return nil
}

// nanErr is a feature value that cannot be fed to the model as it is: a
// NaN, ±Inf or null (refused unless allow_nan), or one that float32 (the
// model's input type) cannot represent (refused always); row is an index
// into the batch.
type nanErr struct {
	path, name, what string
	row              int   // within the batch
	fileRow          int64 // within the rows read
	lossy            bool  // not representable: allow_nan does not help
}

func (e *nanErr) Error() string {
	if e.lossy {
		return fmt.Sprintf("%s: feature %q row %d is %s", e.path, e.name, e.fileRow, e.what)
	}
	return fmt.Sprintf("%s: feature %q row %d is %s (set allow_nan to accept NaN and ±Inf; nulls read as NaN)", e.path, e.name, e.fileRow, e.what)
}

func (r *Reader) nanError(batchRow int, name, what string) error {
	return &nanErr{path: r.path, name: name, what: what, row: batchRow,
		fileRow: r.done + int64(batchRow-r.curOff)}
}

func (r *Reader) lossError(batchRow int, name, what string) error {
	e := r.nanError(batchRow, name, what).(*nanErr)
	e.lossy = true
	return e
}

// convertLabels stores rows [off, off+n) of the label column as int64.
func (r *Reader) convertLabels(lab []int64, arr arrow.Array, off, n int) error {
	name := r.cur.ColumnName(r.labelCol)
	if arr.NullN() > 0 {
		for i := range n {
			if arr.IsNull(off + i) {
				return errorf(r.path, "label %q row %d is null: every row needs a label", name, r.done+int64(i))
			}
		}
	}
	switch a := arr.(type) {
	case *array.Int8:
		widen(lab, a.Int8Values()[off:off+n])
	case *array.Int16:
		widen(lab, a.Int16Values()[off:off+n])
	case *array.Int32:
		widen(lab, a.Int32Values()[off:off+n])
	case *array.Int64:
		copy(lab, a.Int64Values()[off:off+n])
	case *array.Uint8:
		widen(lab, a.Uint8Values()[off:off+n])
	case *array.Uint16:
		widen(lab, a.Uint16Values()[off:off+n])
	case *array.Uint32:
		widen(lab, a.Uint32Values()[off:off+n])
	case *array.Uint64:
		for i, v := range a.Uint64Values()[off : off+n] {
			if v > math.MaxInt64 {
				return errorf(r.path, "label %q row %d is %d, too large for a class index", name, r.done+int64(i), v)
			}
			lab[i] = int64(v)
		}
	case *array.Float32:
		return floatLabels(r, lab, a.Float32Values()[off:off+n], name)
	case *array.Float64:
		return floatLabels(r, lab, a.Float64Values()[off:off+n], name)
	case *array.Float16:
		for i, v := range a.Values()[off : off+n] {
			if err := r.floatLabel(&lab[i], float64(v.Float32()), i, name); err != nil {
				return err
			}
		}
	case *array.Dictionary:
		return r.dictLabels(lab, a, off, n, name)
	default:
		return errorf(r.path, "label %q holds %s in a batch, unlike its schema: the file is corrupt", name, typeName(arr.DataType()))
	}
	return nil
}

// dictLabels stores rows [off, off+n) of a dictionary-encoded label column.
func (r *Reader) dictLabels(lab []int64, a *array.Dictionary, off, n int, name string) error {
	dict := a.Dictionary()
	if dict.NullN() > 0 {
		return errorf(r.path, "label %q has a null in its dictionary: every row needs a label", name)
	}
	// Decode the dictionary as if it were the label column of a batch.
	vals := make([]int64, dict.Len())
	tmp := &Reader{path: r.path, cur: r.cur, labelCol: r.labelCol}
	if err := tmp.convertLabels(vals, dict, 0, dict.Len()); err != nil {
		return fmt.Errorf("%w (in the label's dictionary)", err)
	}
	for i := range n {
		k := a.GetValueIndex(off + i)
		if k < 0 || k >= len(vals) {
			return errorf(r.path, "label %q row %d: dictionary index %d is out of range (%d values): the file is corrupt", name, r.done+int64(i), k, len(vals))
		}
		lab[i] = vals[k]
	}
	return nil
}

// floatLabels accepts float labels that hold whole numbers (pandas turns
// integer columns into floats easily), and rejects any other value.
func floatLabels[T float32 | float64](r *Reader, lab []int64, src []T, name string) error {
	for i, v := range src {
		if err := r.floatLabel(&lab[i], float64(v), i, name); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reader) floatLabel(dst *int64, v float64, i int, name string) error {
	if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return errorf(r.path, "label %q row %d is %v, want a whole number (class index)", name, r.done+int64(i), v)
	}
	*dst = int64(v)
	return nil
}

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// scatter writes src to d[0], d[stride], d[2*stride], ...
func scatter[T number](d []float32, src []T, stride int) {
	if len(src) == 0 {
		return
	}
	if stride == 1 {
		d = d[:len(src)]
		for i, v := range src {
			d[i] = float32(v)
		}
		return
	}
	_ = d[(len(src)-1)*stride] // one bounds check for the loop
	for i, v := range src {
		d[i*stride] = float32(v)
	}
}

func widen[T number](dst []int64, src []T) {
	for i, v := range src {
		dst[i] = int64(v)
	}
}

// checkFloat32 refuses, unless allow_nan, a NaN or ±Inf: a float32 column
// has no value float32 cannot hold. v-v is 0 for every finite v and NaN
// otherwise: one subtraction per value, as cheap as the NaN test it replaced.
func (r *Reader) checkFloat32(src []float32, off int, name string) error {
	if r.allowNaN {
		return nil
	}
	for i, v := range src {
		if v-v != 0 {
			return r.nanError(off+i, name, nonFinite(float64(v)))
		}
	}
	return nil
}

// checkFloats refuses a float64 beyond float32's range (it would read as
// ±Inf), and unless allow_nan a NaN or ±Inf; it counts nonzero values that
// read as 0 (Underflows). Two comparisons per ordinary value: the first is
// false for NaN, ±Inf and overflow alike, the second for all but tiny ones.
func checkFloats(r *Reader, src []float64, off int, name string) error {
	for i, v := range src {
		a := math.Abs(v)
		if !(a <= math.MaxFloat32) {
			if !math.IsNaN(a) && !math.IsInf(a, 0) {
				return r.lossError(off+i, name, fmt.Sprintf("%g, beyond float32's range (the model's input type): it would read as %v", v, float32(v)))
			}
			if !r.allowNaN {
				return r.nanError(off+i, name, nonFinite(v))
			}
		} else if a < math.SmallestNonzeroFloat32 && a != 0 && float32(v) == 0 {
			r.countUnderflow(name)
		}
	}
	return nil
}

// countUnderflow counts one value of feature name (of the tensor column for
// a tensor's elements) that read as 0.
func (r *Reader) countUnderflow(name string) {
	if r.cur == nil {
		return // a dictionary's values (dictValues' reader): not counted
	}
	if name == "" && r.tensorCol >= 0 {
		name = r.cur.ColumnName(r.tensorCol)
	}
	if r.underflow == nil {
		r.underflow = map[string]int64{}
	}
	r.underflow[name]++
}

// maxExact is the largest magnitude below which float32 holds every integer.
const maxExact = 1 << 24

// exactInts refuses an integer that float32 (the model's input type) cannot
// hold exactly: beyond 2^24 a value would be rounded with no word.
func exactInts[T int32 | int64](r *Reader, src []T, arr arrow.Array, off int, name string) error {
	for i, v := range src {
		if v <= maxExact && v >= -maxExact {
			continue
		}
		f := float32(v)
		if (float64(f) >= 1<<63 || int64(f) != int64(v)) && !arr.IsNull(off+i) {
			return r.lossError(off+i, name, inexact(fmt.Sprint(v), f))
		}
	}
	return nil
}

// exactUints is exactInts for unsigned columns.
func exactUints[T uint32 | uint64](r *Reader, src []T, arr arrow.Array, off int, name string) error {
	for i, v := range src {
		if v <= maxExact {
			continue
		}
		f := float32(v)
		if (float64(f) >= 1<<64 || uint64(f) != uint64(v)) && !arr.IsNull(off+i) {
			return r.lossError(off+i, name, inexact(fmt.Sprint(v), f))
		}
	}
	return nil
}

func inexact(v string, f float32) string {
	return fmt.Sprintf("%s, which float32 (the model's input type) cannot hold exactly: it would read as %.0f (integers beyond 2^24 lose precision)", v, f)
}

func isFinite(v float32) bool { return math.Abs(float64(v)) <= math.MaxFloat32 }

// nonFinite names a NaN or infinite value for an error.
func nonFinite(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return "NaN"
}
