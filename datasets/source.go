package datasets

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// batchRows is the number of rows per record batch read from Parquet: large
// enough that per-batch costs vanish, small enough that a batch of a few
// hundred float columns stays in the tens of MB.
const batchRows = 64 << 10

// streamBatchRows is batchRows for a streaming reader (Spec.Stream): the
// decoded batch is garbage once read, so a smaller one keeps the heap's
// peaks low (~4 MB for 64 float columns instead of ~30).
const streamBatchRows = 8 << 10

// source is one file format's record batch reader.
type source interface {
	fileSchema() *arrow.Schema
	// numRows is the row count from the file's metadata.
	numRows() int64
	// project restricts reading to the given schema fields (ascending) and
	// returns the record column each of them will be in.
	project(fields []int) (map[int]int, error)
	// next returns the next record batch, borrowed: it stays valid until
	// the next call to next or close. At the end it returns io.EOF.
	next() (arrow.RecordBatch, error)
	close() error
}

type openFunc func(path string, allocCap int64) (source, error)

// parquetSource reads only the projected columns through pqarrow.
type parquetSource struct {
	pf *file.Reader
	fr *pqarrow.FileReader
	sc *arrow.Schema
	rr pqarrow.RecordReader
}

func openParquet(path string, allocCap int64) (source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errorf(path, "%v", unwrapPath(err))
	}
	mem := allocatorFor(st.Size(), allocCap)
	props := parquet.NewReaderProperties(mem)
	// Stream pages from the file instead of loading whole column chunks,
	// so memory is bounded by the batch even for very large row groups.
	props.BufferedStreamEnabled = true
	pf, err := file.OpenParquetFile(path, false, file.WithReadProps(props))
	if err != nil {
		return nil, errorf(path, "not a readable Parquet file: %v", unwrapPath(err))
	}
	if err := checkParquetRows(pf.MetaData()); err != nil { // guard.go
		_ = pf.Close()
		return nil, errorf(path, "not a readable Parquet file: %v: the file is corrupt", err)
	}
	if v := pf.MetaData().KeyValueMetadata().FindValue("ARROW:schema"); v != nil {
		if err := checkArrowSchemaMeta(*v); err != nil {
			_ = pf.Close()
			return nil, errorf(path, "not a readable Parquet file: its stored Arrow schema is corrupt (%v)", err)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, mem)
	if err != nil {
		_ = pf.Close()
		return nil, errorf(path, "cannot map the Parquet schema to Arrow: %v", err)
	}
	sc, err := fr.Schema()
	if err != nil {
		_ = pf.Close()
		return nil, errorf(path, "cannot map the Parquet schema to Arrow: %v", err)
	}
	if len(fr.Manifest.Fields) != sc.NumFields() {
		_ = pf.Close()
		return nil, errorf(path, "Parquet schema has %d fields but its Arrow schema %d: the file is corrupt", len(fr.Manifest.Fields), sc.NumFields())
	}
	return &parquetSource{pf: pf, fr: fr, sc: sc}, nil
}

// stream decodes smaller record batches (Spec.Stream); project, which
// makes the record reader, has not run yet.
func (s *parquetSource) stream() { s.fr.Props.BatchSize = streamBatchRows }

func (s *parquetSource) fileSchema() *arrow.Schema { return s.sc }
func (s *parquetSource) numRows() int64            { return s.pf.NumRows() }

func (s *parquetSource) project(fields []int) (map[int]int, error) {
	// pqarrow projects by leaf column; a field's leaves come out as one
	// record column, in ascending field order.
	var leaves []int
	colOf := make(map[int]int, len(fields))
	for i, f := range fields {
		leaves = appendLeaves(leaves, &s.fr.Manifest.Fields[f])
		colOf[f] = i
	}
	if s.pf.NumRows() == 0 {
		return colOf, nil // nothing to read; pqarrow dislikes empty readers
	}
	rr, err := s.fr.GetRecordReader(context.Background(), leaves, nil)
	if err != nil {
		return nil, err
	}
	if got := rr.Schema().NumFields(); got != len(fields) {
		rr.Release()
		return nil, fmt.Errorf("projection gave %d columns, want %d: the file is corrupt", got, len(fields))
	}
	s.rr = rr
	return colOf, nil
}

func appendLeaves(dst []int, f *pqarrow.SchemaField) []int {
	if f.IsLeaf() {
		return append(dst, f.ColIndex)
	}
	for i := range f.Children {
		dst = appendLeaves(dst, &f.Children[i])
	}
	return dst
}

func (s *parquetSource) next() (arrow.RecordBatch, error) {
	if s.rr == nil {
		return nil, io.EOF
	}
	if s.rr.Next() {
		return s.rr.RecordBatch(), nil
	}
	if err := s.rr.Err(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

func (s *parquetSource) close() error {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	return s.pf.Close()
}

// ipcFileSource reads a memory-mapped Arrow IPC file; record batches point
// into the mapping (zero-copy) unless the file is compressed or has
// dictionary-encoded fields.
type ipcFileSource struct {
	m    mapping
	fr   *ipc.FileReader
	rows int64
	i    int               // next record batch
	cur  arrow.RecordBatch // owned; released on next/close
	drop bool              // hand the mapping's pages back between batches (Spec.Stream)
}

// stream makes next hand the mapping's pages back before each batch
// (Spec.Stream).
func (s *ipcFileSource) stream() { s.drop = true }

func openIPCFile(path string, allocCap int64) (source, error) {
	m, err := mapFile(path)
	if err != nil {
		return nil, errorf(path, "%v", unwrapPath(err))
	}
	if len(m.data) == 0 {
		_ = m.close()
		return nil, errorf(path, "file is empty, want an Arrow IPC file")
	}
	dicts, err := checkIPCFooter(m.data)
	if err != nil {
		_ = m.close()
		return nil, errorf(path, "not a readable Arrow IPC file: its footer is corrupt (%v)", err)
	}
	opts := []ipc.Option{ipc.WithAllocator(allocatorFor(int64(len(m.data)), allocCap))}
	var fr *ipc.FileReader
	if dicts {
		// ipc.NewMappedFileReader (v18.8.0) leaves its dictionary memo
		// nil and panics on the first dictionary-encoded field; the
		// ReaderAt path initialises it (and copies the buffers).
		fr, err = ipc.NewFileReader(bytes.NewReader(m.data), opts...)
	} else {
		fr, err = ipc.NewMappedFileReader(m.data, opts...)
	}
	if err != nil {
		_ = m.close()
		return nil, errorf(path, "not a readable Arrow IPC file (%v); for the stream format use the .arrows extension", err)
	}
	s := &ipcFileSource{m: m, fr: fr}
	// The footer lists the batches but not their lengths; each batch's
	// length is in its own metadata. Loading a batch from the mapping
	// touches only that metadata (and decompresses, if compressed).
	for i := 0; i < fr.NumRecords(); i++ {
		rec, err := fr.RecordBatchAt(i)
		if err != nil {
			_ = s.close()
			return nil, errorf(path, "record batch %d: %v", i, err)
		}
		s.rows += rec.NumRows()
		rec.Release()
	}
	return s, nil
}

func (s *ipcFileSource) fileSchema() *arrow.Schema { return s.fr.Schema() }
func (s *ipcFileSource) numRows() int64            { return s.rows }
func (s *ipcFileSource) project(fields []int) (map[int]int, error) {
	return identity(fields), nil
}

func (s *ipcFileSource) next() (arrow.RecordBatch, error) {
	s.release()
	if s.drop {
		s.m.drop() // the released batch's pages: nothing points into them now
	}
	if s.i >= s.fr.NumRecords() {
		return nil, io.EOF
	}
	rec, err := s.fr.RecordBatchAt(s.i)
	if err != nil {
		return nil, err
	}
	s.i++
	s.cur = rec
	return rec, nil
}

func (s *ipcFileSource) release() {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
}

func (s *ipcFileSource) close() error {
	// Every array pointing into the mapping must be gone before unmapping.
	s.release()
	if s.fr != nil {
		_ = s.fr.Close()
		s.fr = nil
	}
	return s.m.close()
}

// ipcStreamSource reads an Arrow IPC stream sequentially.
type ipcStreamSource struct {
	f    *os.File
	r    *ipc.Reader
	rows int64
}

func openIPCStream(path string, allocCap int64) (source, error) {
	// A stream has no footer: count the rows in one pass, then reopen.
	s, err := newIPCStream(path, allocCap)
	if err != nil {
		return nil, err
	}
	for {
		rec, err := s.r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = s.close()
			return nil, errorf(path, "reading the stream at row %d: %v", s.rows, err)
		}
		s.rows += rec.NumRows()
	}
	rows := s.rows
	if err := s.close(); err != nil {
		return nil, errorf(path, "%v", unwrapPath(err))
	}
	if s, err = newIPCStream(path, allocCap); err != nil {
		return nil, err
	}
	s.rows = rows
	return s, nil
}

func newIPCStream(path string, allocCap int64) (*ipcStreamSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf(path, "%v", unwrapPath(err))
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, errorf(path, "%v", unwrapPath(err))
	}
	// A corrupt length prefix must not make the reader allocate more than
	// the file holds. ipc.NewReader (v18.8.0) does not pass the size limits
	// on to its message reader, so build the message reader here.
	if err := checkStreamSchema(f, st.Size()); err != nil {
		_ = f.Close()
		return nil, errorf(path, "not a readable Arrow IPC stream: its schema is corrupt (%v)", err)
	}
	opts := []ipc.Option{ipc.WithAllocator(allocatorFor(st.Size(), allocCap)),
		ipc.WithMetadataSizeLimit(st.Size()), ipc.WithBodySizeLimit(st.Size())}
	// The ipc.Reader takes over the message reader and releases it.
	r, err := ipc.NewReaderFromMessageReader(ipc.NewMessageReader(f, opts...), opts...)
	if err != nil {
		_ = f.Close()
		return nil, errorf(path, "not a readable Arrow IPC stream (%v); for the file format use the .arrow extension", err)
	}
	return &ipcStreamSource{f: f, r: r}, nil
}

func (s *ipcStreamSource) fileSchema() *arrow.Schema { return s.r.Schema() }
func (s *ipcStreamSource) numRows() int64            { return s.rows }
func (s *ipcStreamSource) project(fields []int) (map[int]int, error) {
	return identity(fields), nil
}

func (s *ipcStreamSource) next() (arrow.RecordBatch, error) {
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	return rec, err
}

func (s *ipcStreamSource) close() error {
	s.r.Release()
	return s.f.Close()
}

// checkStreamSchema checks the schema message that starts a stream, then
// rewinds the file.
func checkStreamSchema(f *os.File, size int64) error {
	var hdr [8]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return nil // the ipc reader reports a short file itself
	}
	// A message is [0xFFFFFFFF] int32(length) flatbuffer; the marker is
	// missing in streams written before Arrow 0.15.
	need := 4 + int64(int32(binary.LittleEndian.Uint32(hdr[:])))
	if binary.LittleEndian.Uint32(hdr[:]) == 0xFFFFFFFF {
		need = 8 + int64(int32(binary.LittleEndian.Uint32(hdr[4:])))
	}
	if need < 8 || need > size {
		return nil // the ipc reader reports a bad length itself
	}
	b := make([]byte, need)
	if _, err := f.ReadAt(b, 0); err != nil {
		return err
	}
	return checkIPCMessage(b)
}

func identity(fields []int) map[int]int {
	m := make(map[int]int, len(fields))
	for _, f := range fields {
		m[f] = f
	}
	return m
}

// checkColumn checks a column of a record batch from an untrusted file
// before its buffers are read.
func checkColumn(rec arrow.RecordBatch, c int) error {
	if c < 0 || c >= int(rec.NumCols()) {
		return fmt.Errorf("batch has %d columns", rec.NumCols())
	}
	col := rec.Column(c)
	if int64(col.Len()) != rec.NumRows() {
		return fmt.Errorf("column has %d rows, batch %d", col.Len(), rec.NumRows())
	}
	return array.Validate(col)
}
