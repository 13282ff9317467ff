package datasets

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// Defences against malformed files that arrow-go (v18.8.0) does not check.
// A panic inside arrow-go is recovered at the package boundary, but two
// things are not recoverable: a runtime out-of-memory from a huge make() and
// unbounded work. Both come from lengths that a file states and arrow-go
// trusts: vector lengths in the flatbuffer schema (fieldFromFB makes a
// []arrow.Field of ChildrenLength() before reading any child), and
// uncompressed buffer sizes in compressed IPC bodies. The schema is walked
// here first, bounded; buffer allocations go through capAllocator.

// capAllocator refuses (by panicking, which Open and Read recover) any single
// allocation larger than max: a corrupt size prefix then gives an error
// instead of exhausting memory.
type capAllocator struct {
	memory.Allocator
	max int
}

func (a capAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.Allocator.Allocate(size)
}

func (a capAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size)
	return a.Allocator.Reallocate(size, b)
}

func (a capAllocator) check(size int) {
	if size < 0 || size > a.max {
		panic(fmt.Sprintf("refusing to allocate %d bytes (limit %d): a size in the file is corrupt", size, a.max))
	}
}

// allocCapMin is the smallest per-allocation cap (Spec.AllocCap's default).
const allocCapMin = 1 << 30

// allocatorFor returns the allocator for a file of size bytes. Decompressed
// buffers may legitimately be much larger than the file, so the cap is
// generous: one allocation may be 64 times the file, and at least capMin
// (0: allocCapMin, 1 GiB).
func allocatorFor(size, capMin int64) memory.Allocator {
	c := capMin
	if c <= 0 {
		c = allocCapMin
	}
	if size > c/64 {
		c = size * 64
	}
	return capAllocator{Allocator: memory.DefaultAllocator, max: int(min(c, int64(^uint(0)>>1)))}
}

// Flatbuffer walking. Offsets are little-endian; a table starts with a
// signed offset back to its vtable; field i's slot in the vtable is at
// 4+2i. See https://flatbuffers.dev/internals/.

// fbBudget is how many fields and key-value pairs a schema may have in all,
// counting a shared sub-table each time it is reached (a flatbuffer is a DAG,
// and arrow-go expands it as a tree).
const fbBudget = 1 << 16

type fb struct {
	b      []byte
	budget int
	dicts  bool // a field is dictionary-encoded
}

var errFB = errors.New("malformed flatbuffer")

func (f *fb) u32(p int) (int, error) {
	if p < 0 || p+4 > len(f.b) {
		return 0, errFB
	}
	return int(binary.LittleEndian.Uint32(f.b[p:])), nil
}

func (f *fb) u16(p int) (int, error) {
	if p < 0 || p+2 > len(f.b) {
		return 0, errFB
	}
	return int(binary.LittleEndian.Uint16(f.b[p:])), nil
}

// field returns the absolute position of table t's field i, or 0 if absent.
func (f *fb) field(t, i int) (int, error) {
	if t < 0 || t+4 > len(f.b) {
		return 0, errFB
	}
	v := t - int(int32(binary.LittleEndian.Uint32(f.b[t:])))
	vlen, err := f.u16(v)
	if err != nil {
		return 0, err
	}
	slot := 4 + 2*i
	if slot+2 > vlen {
		return 0, nil
	}
	off, err := f.u16(v + slot)
	if err != nil || off == 0 {
		return 0, err
	}
	return t + off, nil
}

// ref follows the offset stored in table t's field i (a table, vector or
// string); 0 if absent.
func (f *fb) ref(t, i int) (int, error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return 0, err
	}
	o, err := f.u32(p)
	if err != nil {
		return 0, err
	}
	return p + o, nil
}

// vector checks that the vector in table t's field i, of elements of elem
// bytes, fits in the buffer, and returns its first element and length.
func (f *fb) vector(t, i, elem int) (start, n int, err error) {
	p, err := f.ref(t, i)
	if err != nil || p == 0 {
		return 0, 0, err
	}
	n, err = f.u32(p)
	if err != nil {
		return 0, 0, err
	}
	if n > (len(f.b)-p-4)/elem {
		return 0, 0, fmt.Errorf("%w: vector of %d elements does not fit", errFB, n)
	}
	return p + 4, n, nil
}

// tables calls fn for each table in the vector in table t's field i.
func (f *fb) tables(t, i int, fn func(int) error) error {
	start, n, err := f.vector(t, i, 4)
	if err != nil {
		return err
	}
	for j := range n {
		e := start + 4*j
		o, err := f.u32(e)
		if err != nil {
			return err
		}
		if f.budget--; f.budget < 0 {
			return fmt.Errorf("%w: more than %d fields", errFB, fbBudget)
		}
		if err := fn(e + o); err != nil {
			return err
		}
	}
	return nil
}

// Arrow's Schema.fbs field numbers.
const (
	schemaFields      = 1
	schemaMetadata    = 2
	fieldTypeType     = 2
	fieldType         = 3
	fieldDictionary   = 4
	fieldChildren     = 5
	fieldMetadata     = 6
	unionTypeIds      = 1
	typeUnion         = 14
	messageHeader     = 2
	messageBodyLength = 3
	footerSchema      = 1
	footerDicts       = 2
	footerBatches     = 3
	blockSize         = 24
	maxSchemaDepth    = 64
	keyValueKey       = 0
	keyValueValue     = 1
	stringTerminate   = 1
)

func (f *fb) checkSchema(t int) error {
	if err := f.checkMetadata(t, schemaMetadata); err != nil {
		return err
	}
	return f.tables(t, schemaFields, func(c int) error { return f.checkField(c, 1) })
}

func (f *fb) checkField(t, depth int) error {
	if depth > maxSchemaDepth {
		return fmt.Errorf("%w: fields nested deeper than %d", errFB, maxSchemaDepth)
	}
	if err := f.checkMetadata(t, fieldMetadata); err != nil {
		return err
	}
	if p, err := f.field(t, fieldDictionary); err != nil {
		return err
	} else if p != 0 {
		f.dicts = true
	}
	if p, err := f.field(t, fieldTypeType); err != nil {
		return err
	} else if p != 0 && p < len(f.b) && f.b[p] == typeUnion {
		u, err := f.ref(t, fieldType)
		if err != nil {
			return err
		}
		if u != 0 {
			if _, _, err := f.vector(u, unionTypeIds, 4); err != nil {
				return err
			}
		}
	}
	return f.tables(t, fieldChildren, func(c int) error { return f.checkField(c, depth+1) })
}

func (f *fb) checkMetadata(t, i int) error {
	return f.tables(t, i, func(kv int) error {
		for _, s := range []int{keyValueKey, keyValueValue} {
			if _, _, err := f.vector(kv, s, 1); err != nil {
				return err
			}
		}
		return nil
	})
}

func newFB(b []byte) (*fb, int, error) {
	f := &fb{b: b, budget: fbBudget}
	root, err := f.u32(0)
	return f, root, err
}

// checkIPCMessage checks an encapsulated IPC message (optional continuation
// marker, int32 length, flatbuffer Message) whose header is a Schema.
func checkIPCMessage(b []byte) error {
	if len(b) >= 4 && binary.LittleEndian.Uint32(b) == 0xFFFFFFFF {
		b = b[4:]
	}
	if len(b) < 4 {
		return errFB
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 4 || n > len(b)-4 {
		return fmt.Errorf("%w: message of %d bytes in %d", errFB, n, len(b)-4)
	}
	f, root, err := newFB(b[4 : 4+n])
	if err != nil {
		return err
	}
	// arrow-go allocates the body before reading it.
	if p, err := f.field(root, messageBodyLength); err != nil {
		return err
	} else if p != 0 {
		if p+8 > len(f.b) {
			return errFB
		}
		if body := int64(binary.LittleEndian.Uint64(f.b[p:])); body < 0 || body > int64(len(b)-4-n) {
			return fmt.Errorf("%w: message body of %d bytes in %d", errFB, body, len(b)-4-n)
		}
	}
	hdr, err := f.ref(root, messageHeader)
	if err != nil || hdr == 0 {
		return err
	}
	return f.checkSchema(hdr)
}

// checkArrowSchemaMeta checks Parquet's "ARROW:schema" metadata value, which
// pqarrow decodes (base64, padded or not) into an IPC schema message.
func checkArrowSchemaMeta(v string) error {
	b, err := base64.StdEncoding.DecodeString(v)
	if len(b) == 0 || err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(v); err != nil {
			return nil // pqarrow reports the bad encoding itself
		}
	}
	return checkIPCMessage(b)
}

// checkIPCFooter checks the footer of an Arrow IPC file held in data, and
// reports whether its schema has dictionary-encoded fields.
func checkIPCFooter(data []byte) (dicts bool, err error) {
	const trailer = 10 // int32 footer length + "ARROW1"
	if len(data) < trailer {
		return false, nil // arrow-go reports a short file itself
	}
	n := int(int32(binary.LittleEndian.Uint32(data[len(data)-trailer:])))
	end := len(data) - trailer
	if n < 4 || n > end {
		return false, nil // so does it a bad footer length
	}
	f, root, err := newFB(data[end-n : end])
	if err != nil {
		return false, err
	}
	for _, i := range []int{footerDicts, footerBatches} {
		if _, _, err := f.vector(root, i, blockSize); err != nil {
			return false, err
		}
	}
	s, err := f.ref(root, footerSchema)
	if err != nil || s == 0 {
		return false, err
	}
	err = f.checkSchema(s)
	return f.dicts, err
}

// checkParquetRows holds a Parquet footer's row counts to what its row
// groups hold before anything is sized by them: the file's num_rows must
// be the sum of its row groups', and each column chunk must hold at least
// its row group's rows (a required or optional column holds one value or
// null per row; a repeated one more). A footer that declares more rows
// than it holds made Open allocate a table for them (an out-of-memory
// fatal error, which no recover catches).
func checkParquetRows(md *metadata.FileMetaData) error {
	var sum int64
	for i := range md.NumRowGroups() {
		rg := md.RowGroup(i)
		n := rg.NumRows()
		if n < 0 || sum+n < sum {
			return fmt.Errorf("row group %d declares %d rows", i, n)
		}
		sum += n
		for j := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				return fmt.Errorf("row group %d, column %d: %v", i, j, err)
			}
			if v := cc.NumValues(); v < n {
				return fmt.Errorf("row group %d declares %d rows but its column %d holds %d values", i, n, j, v)
			}
		}
	}
	if md.NumRows != sum {
		return fmt.Errorf("the footer declares %d rows but its row groups hold %d", md.NumRows, sum)
	}
	return nil
}
