// Package npz writes and reads numpy's .npz files: an uncompressed zip of
// .npy (format 1.0) members, one array per name, as numpy.savez writes them
// and numpy.load reads them. ortbench uses it to hand the inputs it made
// once in Go to the Python twin, so both sides feed the same bytes.
//
// Each member's data starts 64-byte aligned in the file (a padding extra
// field in its zip header, then numpy's own 64-byte header padding), so the
// Python side can map the arrays straight from the file, aligned.
package npz

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ortbench/ortbench/onnx"
)

// Array is one named array: C order, little-endian elements of DType
// (float16 as IEEE half, bool as one byte 0/1), len(Data) = product of
// Shape × DType.Size().
type Array struct {
	Name  string
	DType onnx.DType
	Shape []int64
	Data  []byte
}

// descrs are numpy's dtype strings for the types ortbench feeds.
var descrs = map[onnx.DType]string{
	onnx.DFloat32: "<f4", onnx.DFloat16: "<f2", onnx.DFloat64: "<f8", onnx.DInt64: "<i8",
	onnx.DInt32: "<i4", onnx.DInt8: "|i1", onnx.DUint8: "|u1", onnx.DBool: "|b1",
}

// align is where member data starts: numpy's own header alignment.
const align = 64

// padID is the zip extra-field id of the padding that aligns a member (an
// id no zip tool assigns; readers skip unknown extra fields).
const padID = 0x6f62 // "bo"

// elems is the element count a shape holds, or an error for a negative
// dimension or a count beyond max.
func elems(shape []int64, max int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d != 0 && n > max/d {
			return 0, fmt.Errorf("shape %v holds more than %d elements", shape, max)
		}
		n *= d
	}
	return n, nil
}

func (a Array) check() error {
	if a.Name == "" {
		return errors.New("an array without a name")
	}
	d, ok := descrs[a.DType]
	if !ok {
		return fmt.Errorf("array %q: dtype %v cannot be written", a.Name, a.DType)
	}
	n, err := elems(a.Shape, int64(len(a.Data)))
	if err != nil {
		return fmt.Errorf("array %q: %v", a.Name, err)
	}
	if n*int64(a.DType.Size()) != int64(len(a.Data)) {
		return fmt.Errorf("array %q: %d bytes for shape %v of %s (%s), want %d", a.Name, len(a.Data), a.Shape, a.DType, d, n*int64(a.DType.Size()))
	}
	return nil
}

// header is the .npy 1.0 header of a, padded so the data starts at a
// multiple of 64 bytes from the member's start.
func header(a Array) []byte {
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = strconv.FormatInt(d, 10)
	}
	shape := strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descrs[a.DType], shape)
	total := 10 + len(dict) + 1 // magic, version, length, dict, '\n'
	pad := (align - total%align) % align
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, bytes.Repeat([]byte{' '}, pad)...)
	return append(h, '\n')
}

// counter counts the bytes written through it: the zip offset of the next
// member once the zip writer is flushed.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Write writes arrays to path as an .npz, member NAME.npy per array, in
// order. It writes a temporary file beside path and renames it, so path is
// either the old file or the whole new one.
func Write(path string, arrays []Array) error {
	seen := map[string]bool{}
	for _, a := range arrays {
		if err := a.check(); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		if seen[a.Name] {
			return fmt.Errorf("%s: array %q twice", path, a.Name)
		}
		seen[a.Name] = true
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	err = write(f, arrays)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func write(f io.Writer, arrays []Array) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	c := &counter{w: bw}
	zw := zip.NewWriter(c)
	for _, a := range arrays {
		if err := member(zw, c, a); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// member writes one array as a stored zip member whose data is aligned.
func member(zw *zip.Writer, c *counter, a Array) error {
	if err := zw.Flush(); err != nil { // c.n is now the member's offset
		return err
	}
	h := header(a)
	name := a.Name + ".npy"
	// The local header is 30 bytes, the name, then the extra field: pad it
	// (4 bytes of id and size at least) so the member starts aligned.
	pad := (align - int((c.n+30+int64(len(name))+4)%align)) % align
	extra := binary.LittleEndian.AppendUint16(nil, padID)
	extra = binary.LittleEndian.AppendUint16(extra, uint16(pad))
	extra = append(extra, make([]byte, pad)...)
	crc := crc32.NewIEEE()
	crc.Write(h)
	crc.Write(a.Data)
	size := uint64(len(h) + len(a.Data))
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Store, Extra: extra,
		CRC32: crc.Sum32(), CompressedSize64: size, UncompressedSize64: size,
	})
	if err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err = w.Write(a.Data)
	return err
}

// OfFeeds is the arrays that hold a model's inputs, ready for Write: input
// k (feeds[k], in model order) is perInput[k], items × ItemBytes bytes,
// shaped [items, Item...] — for an input without a batch axis too, so every
// array's first axis is the item. The bytes are not copied.
func OfFeeds(feeds []onnx.Feed, perInput [][]byte, items int) ([]Array, error) {
	if len(perInput) != len(feeds) {
		return nil, fmt.Errorf("%d byte slices for %d inputs", len(perInput), len(feeds))
	}
	arrays := make([]Array, len(feeds))
	for k, f := range feeds {
		if want := items * f.ItemBytes(); len(perInput[k]) != want {
			return nil, fmt.Errorf("input %q: %d bytes for %d items of %s %v, want %d", f.Name, len(perInput[k]), items, f.DType, f.Item, want)
		}
		arrays[k] = Array{Name: f.Name, DType: f.DType, Shape: append([]int64{int64(items)}, f.Item...), Data: perInput[k]}
	}
	return arrays, nil
}
