package procpool

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ortbench/ortbench/datasets"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// BatchSchema is the schema of a copied batch: the item records, one
// fixed_size_list<uint8, record bytes> column, like the shared file.
func BatchSchema(recordBytes int) *arrow.Schema { return datasets.RecordSchema(recordBytes) }

// ResultSchema has one column per model output: int64 or float32 for a
// one-value output, fixed_size_list<…, width> otherwise.
func ResultSchema(layout []onnx.Output) *arrow.Schema {
	fields := make([]arrow.Field, len(layout))
	for k, l := range layout {
		var t arrow.DataType = arrow.PrimitiveTypes.Float32
		if l.Kind == onnx.Int64 {
			t = arrow.PrimitiveTypes.Int64
		}
		if l.Width != 1 {
			t = arrow.FixedSizeListOfNonNullable(int32(l.Width), t)
		}
		fields[k] = arrow.Field{Name: l.Name, Type: t}
	}
	return arrow.NewSchema(fields, nil)
}

// column wraps values (rows × width, not copied) as an array of type t.
func column(t arrow.DataType, rows, width int, prim arrow.DataType, raw []byte) arrow.Array {
	vals := array.NewData(prim, rows*width, []*memory.Buffer{nil, memory.NewBufferBytes(raw)}, nil, 0, 0)
	defer vals.Release()
	if width == 1 && arrow.TypeEqual(t, prim) {
		return array.MakeFromData(vals)
	}
	d := array.NewData(t, rows, []*memory.Buffer{nil}, []arrow.ArrayData{vals}, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// encoder writes one Arrow IPC stream into successive frames: the schema
// goes into the first frame, each record batch into its own.
type encoder struct {
	schema *arrow.Schema
	w      *ipc.Writer
	f      *Frame
	cols   []arrow.Array
}

func newEncoder(schema *arrow.Schema, f *Frame) *encoder {
	return &encoder{schema: schema, f: f, cols: make([]arrow.Array, schema.NumFields()),
		w: ipc.NewWriter(f, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))}
}

// write encodes e.cols (rows rows) into the current frame and releases them.
func (e *encoder) write(rows int) error {
	rec := array.NewRecordBatch(e.schema, e.cols, int64(rows))
	for i, c := range e.cols {
		c.Release()
		e.cols[i] = nil
	}
	err := e.w.Write(rec)
	rec.Release()
	return err
}

// BatchEncoder encodes copied batches into Task frames (the parent side of
// transport copy). Not safe for concurrent use.
type BatchEncoder struct {
	width int
	enc   *encoder
	f     Frame
}

// NewBatchEncoder starts a stream of batches of records of width bytes.
func NewBatchEncoder(width int) *BatchEncoder {
	b := &BatchEncoder{width: width}
	b.enc = newEncoder(BatchSchema(width), &b.f)
	return b
}

// Encode builds a Task frame for rows of in (nil for transport shared:
// header only) and returns it; it stays valid until the next Encode.
func (b *BatchEncoder) Encode(h TaskHeader, in []byte) ([]byte, error) {
	b.f.Begin()
	appendTask(&b.f, h)
	if in != nil {
		if len(in) != int(h.Rows)*b.width {
			return nil, fmt.Errorf("batch %d: %d bytes for %d records of %d", h.Batch, len(in), h.Rows, b.width)
		}
		b.enc.cols[0] = column(b.enc.schema.Field(0).Type, int(h.Rows), b.width, arrow.PrimitiveTypes.Uint8, in)
		if err := b.enc.write(int(h.Rows)); err != nil {
			return nil, fmt.Errorf("batch %d: arrow ipc: %w", h.Batch, err)
		}
	}
	return b.f.End(MsgTask)
}

// ResultEncoder encodes a worker's outputs into Result frames. Not safe for
// concurrent use.
type ResultEncoder struct {
	layout []onnx.Output
	enc    *encoder
	f      Frame
}

// NewResultEncoder starts a stream of results of the given layout.
func NewResultEncoder(layout []onnx.Output) *ResultEncoder {
	r := &ResultEncoder{layout: layout}
	r.enc = newEncoder(ResultSchema(layout), &r.f)
	return r
}

// Encode builds a Result frame from rows 0..h.Rows-1 of out.
func (r *ResultEncoder) Encode(h ResultHeader, out *workload.Outputs) ([]byte, error) {
	r.f.Begin()
	var b [headerLen]byte
	putHeader(b[:], h.Batch, h.Rows, h.ComputeNS)
	_, _ = r.f.Write(b[:])
	n := int(h.Rows)
	for k, l := range r.layout {
		t := r.enc.schema.Field(k).Type
		if l.Kind == onnx.Int64 {
			r.enc.cols[k] = column(t, n, l.Width, arrow.PrimitiveTypes.Int64, arrow.Int64Traits.CastToBytes(out.I64[k][:n*l.Width]))
		} else {
			r.enc.cols[k] = column(t, n, l.Width, arrow.PrimitiveTypes.Float32, arrow.Float32Traits.CastToBytes(out.F32[k][:n*l.Width]))
		}
	}
	if err := r.enc.write(n); err != nil {
		return nil, fmt.Errorf("result of batch %d: arrow ipc: %w", h.Batch, err)
	}
	return r.f.End(MsgResult)
}

// feeder serves the IPC bytes of one frame at a time to an ipc.Reader; it
// never blocks, so a message that is cut short is an error, not a hang.
type feeder struct{ p []byte }

func (f *feeder) Read(b []byte) (int, error) {
	if len(f.p) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(b, f.p)
	f.p = f.p[n:]
	return n, nil
}

// decoder reads one Arrow IPC stream whose messages arrive in frames.
type decoder struct {
	schema  *arrow.Schema
	maxBody int64 // the largest legitimate message body, so a corrupt length is refused before it is allocated
	feed    feeder
	r       *ipc.Reader
}

// ipcSlack covers a message body's padding and bitmaps beyond its values.
const ipcSlack = 4 << 10

// next decodes the record batch in p (preceded by the schema in the first
// frame). The record is valid until the next call.
func (d *decoder) next(p []byte) (rec arrow.RecordBatch, err error) {
	defer func() {
		if v := recover(); v != nil {
			rec, err = nil, malformed("arrow ipc: %v", v)
		}
	}()
	if d.r == nil {
		// The schema is fixed by the protocol: the first frame must open
		// with exactly the schema message this side would write. arrow-go
		// trusts the lengths inside a schema message and can try to
		// allocate terabytes for a corrupt one, so the wire's schema is
		// compared, never parsed; the reader parses our own copy.
		want, err := schemaMessage(d.schema)
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(p, want) {
			return nil, malformed("arrow ipc stream does not open with the expected schema (%s)", d.schema)
		}
		d.feed.p = want
		r, err := ipc.NewReader(&d.feed, ipc.WithSchema(d.schema), ipc.WithAllocator(&reuse{}),
			ipc.WithMetadataSizeLimit(64<<10), ipc.WithBodySizeLimit(d.maxBody))
		if err != nil {
			return nil, malformed("arrow ipc schema: %v", err)
		}
		d.r = r
		p = p[len(want):]
	}
	d.feed.p = p
	if int64(len(p)) > d.maxBody+64<<10 {
		return nil, malformed("arrow ipc message of %d bytes exceeds the %d-byte limit", len(p), d.maxBody+64<<10)
	}
	if !d.r.Next() {
		err := d.r.Err()
		if err == nil {
			err = io.EOF
		}
		return nil, malformed("arrow ipc record batch: %v", err)
	}
	if len(d.feed.p) != 0 {
		return nil, malformed("%d bytes left over after the arrow ipc record batch", len(d.feed.p))
	}
	return d.r.RecordBatch(), nil
}

// schemaMessage is the encapsulated schema message an ipc.Writer opens a
// stream of schema with.
func schemaMessage(schema *arrow.Schema) ([]byte, error) {
	var b bytes.Buffer
	w := ipc.NewWriter(&b, ipc.WithSchema(schema))
	if err := w.Close(); err != nil {
		return nil, err
	}
	const eos = 8 // continuation marker and a zero length
	if b.Len() <= eos {
		return nil, fmt.Errorf("arrow ipc: empty schema message for %s", schema)
	}
	return b.Bytes()[:b.Len()-eos], nil
}

func (d *decoder) close() {
	if d.r != nil {
		d.r.Release()
		d.r = nil
	}
}

// values returns column c of rec as its flat values (rows × width),
// checking its type and length.
func values[T float32 | int64 | uint8](rec arrow.RecordBatch, c, width int) ([]T, error) {
	a := rec.Column(c)
	if a.NullN() != 0 {
		return nil, malformed("column %q has %d nulls", rec.ColumnName(c), a.NullN())
	}
	if l, ok := a.(*array.FixedSizeList); ok {
		if l.Offset() != 0 {
			return nil, malformed("column %q: sliced list", rec.ColumnName(c))
		}
		a = l.ListValues()
	}
	var v []T
	switch x := a.(type) {
	case *array.Float32:
		if s, ok := any(x.Float32Values()).([]T); ok {
			v = s
		}
	case *array.Int64:
		if s, ok := any(x.Int64Values()).([]T); ok {
			v = s
		}
	case *array.Uint8:
		if s, ok := any(x.Uint8Values()).([]T); ok {
			v = s
		}
	}
	if want := int(rec.NumRows()) * width; v == nil || len(v) < want {
		return nil, malformed("column %q: %s of %d values, want %d", rec.ColumnName(c), a.DataType(), a.Len(), want)
	}
	return v[:int(rec.NumRows())*width], nil
}

// BatchDecoder decodes copied batches on the worker side.
type BatchDecoder struct {
	width int
	d     decoder
}

// NewBatchDecoder expects batches of at most maxRows records of width bytes.
func NewBatchDecoder(width, maxRows int) *BatchDecoder {
	return &BatchDecoder{width: width, d: decoder{schema: BatchSchema(width), maxBody: int64(maxRows)*int64(width) + ipcSlack}}
}

// Decode returns the records in a Task's IPC bytes; valid until the next call.
func (b *BatchDecoder) Decode(h TaskHeader, p []byte) ([]byte, error) {
	rec, err := b.d.next(p)
	if err != nil {
		return nil, err
	}
	if rec.NumRows() != int64(h.Rows) {
		return nil, malformed("task %d: record batch of %d rows, header says %d", h.Batch, rec.NumRows(), h.Rows)
	}
	return values[uint8](rec, 0, b.width)
}

// Close releases the decoder.
func (b *BatchDecoder) Close() { b.d.close() }

// ResultDecoder decodes results on the parent side straight into the
// pass's Outputs.
type ResultDecoder struct {
	layout []onnx.Output
	d      decoder
}

// NewResultDecoder expects results of at most maxRows rows of the given layout.
func NewResultDecoder(layout []onnx.Output, maxRows int) *ResultDecoder {
	var row int64
	for _, l := range layout {
		row += int64(l.Width) * 8
	}
	return &ResultDecoder{layout: layout, d: decoder{schema: ResultSchema(layout), maxBody: int64(maxRows)*row + ipcSlack*int64(len(layout)+1)}}
}

// Decode copies a Result's outputs into out at rows first.. .
func (r *ResultDecoder) Decode(h ResultHeader, p []byte, first int, out *workload.Outputs) error {
	rec, err := r.d.next(p)
	if err != nil {
		return err
	}
	n := int(h.Rows)
	if rec.NumRows() != int64(n) {
		return malformed("result of batch %d: record batch of %d rows, header says %d", h.Batch, rec.NumRows(), n)
	}
	if first+n > out.Rows {
		return malformed("result of batch %d: rows %d..%d beyond the dataset's %d", h.Batch, first, first+n-1, out.Rows)
	}
	for k, l := range r.layout {
		lo := first * l.Width
		if l.Kind == onnx.Int64 {
			v, err := values[int64](rec, k, l.Width)
			if err != nil {
				return err
			}
			copy(out.I64[k][lo:], v)
		} else {
			v, err := values[float32](rec, k, l.Width)
			if err != nil {
				return err
			}
			copy(out.F32[k][lo:], v)
		}
	}
	return nil
}

// Close releases the decoder.
func (r *ResultDecoder) Close() { r.d.close() }

// reuse is an Arrow allocator for one decoder: message bodies are freed as
// soon as the next message arrives, so a handful of buffers serve a whole
// stream and the hot path makes no garbage in proportion to the data. Not
// safe for concurrent use (a decoder is used by one goroutine).
type reuse struct{ free [][]byte }

const reuseKeep = 4

func (a *reuse) Allocate(size int) []byte {
	for i, b := range a.free {
		if cap(b) >= size {
			a.free[i] = a.free[len(a.free)-1]
			a.free = a.free[:len(a.free)-1]
			b = b[:size]
			clear(b) // arrow expects zeroed memory (padding, bitmaps)
			return b
		}
	}
	return make([]byte, size, size+size/8+64)
}

func (a *reuse) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

func (a *reuse) Free(b []byte) {
	if cap(b) > 0 && len(a.free) < reuseKeep {
		a.free = append(a.free, b[:0])
	}
}
