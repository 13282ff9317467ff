package npz

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// maxHeader bounds a .npy header (numpy's own limit is 10000 bytes).
const maxHeader = 1 << 16

// Read reads every array of the .npz at path, in the zip's order. It reads
// what numpy.savez writes (stored members, .npy format 1.0 to 3.0, the dtypes
// of Array) and refuses the rest — compressed members, Fortran order, other
// dtypes, sizes the file cannot hold — with an error naming the file and
// the member.
func Read(path string) ([]Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	arrays, err := read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return arrays, nil
}

// read reads the arrays of the zip r of size bytes.
func read(r io.ReaderAt, size int64) ([]Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	var arrays []Array
	seen := map[string]bool{}
	for _, m := range zr.File {
		a, err := readMember(m, size)
		if err != nil {
			return nil, fmt.Errorf("member %q: %v", m.Name, err)
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("member %q: array %q twice", m.Name, a.Name)
		}
		seen[a.Name] = true
		arrays = append(arrays, a)
	}
	return arrays, nil
}

func readMember(m *zip.File, size int64) (Array, error) {
	name, ok := strings.CutSuffix(m.Name, ".npy")
	if !ok || name == "" {
		return Array{}, fmt.Errorf("not NAME.npy")
	}
	if m.Method != zip.Store {
		return Array{}, fmt.Errorf("compressed (method %d); ortbench reads numpy.savez files, not savez_compressed", m.Method)
	}
	if m.UncompressedSize64 > uint64(size) {
		return Array{}, fmt.Errorf("declares %d bytes, more than the file's %d", m.UncompressedSize64, size)
	}
	rc, err := m.Open() // checks the CRC at the end
	if err != nil {
		return Array{}, err
	}
	defer rc.Close()
	a, hlen, err := readHeader(rc)
	if err != nil {
		return Array{}, err
	}
	a.Name = name
	n, err := elems(a.Shape, int64(m.UncompressedSize64))
	if err != nil {
		return Array{}, err
	}
	want := n * int64(a.DType.Size())
	if have := int64(m.UncompressedSize64) - hlen; want != have {
		return Array{}, fmt.Errorf("shape %v of %s is %d bytes, the member holds %d", a.Shape, a.DType, want, have)
	}
	a.Data = make([]byte, want)
	if _, err := io.ReadFull(rc, a.Data); err != nil {
		return Array{}, err
	}
	if _, err := rc.Read(make([]byte, 1)); err != io.EOF { // EOF checks the CRC
		if err == nil {
			err = fmt.Errorf("data beyond the array")
		}
		return Array{}, err
	}
	return a, nil
}

// readHeader reads a .npy header: the array's dtype and shape, and the
// header's length in bytes.
func readHeader(r io.Reader) (Array, int64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Array{}, 0, fmt.Errorf("no .npy header: %v", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return Array{}, 0, fmt.Errorf("not a .npy array (bad magic)")
	}
	var lenBytes int
	switch pre[6] {
	case 1:
		lenBytes = 2
	case 2, 3:
		lenBytes = 4
	default:
		return Array{}, 0, fmt.Errorf(".npy format %d.%d, want 1.0 to 3.0", pre[6], pre[7])
	}
	lb := make([]byte, lenBytes)
	if _, err := io.ReadFull(r, lb); err != nil {
		return Array{}, 0, fmt.Errorf("short .npy header: %v", err)
	}
	var hlen int
	if lenBytes == 2 {
		hlen = int(binary.LittleEndian.Uint16(lb))
	} else if v := binary.LittleEndian.Uint32(lb); v <= maxHeader {
		hlen = int(v)
	} else {
		return Array{}, 0, fmt.Errorf(".npy header of %d bytes, over %d", v, maxHeader)
	}
	dict := make([]byte, hlen)
	if _, err := io.ReadFull(r, dict); err != nil {
		return Array{}, 0, fmt.Errorf("short .npy header: %v", err)
	}
	a, err := parseDict(string(dict))
	return a, int64(8 + lenBytes + hlen), err
}

var (
	descrRe   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRe = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape'\s*:\s*\(([0-9,\s]*)\)`)
	keyRe     = regexp.MustCompile(`'([^']*)'\s*:`)
)

// parseDict reads the header's Python dict literal: exactly the keys
// descr, fortran_order and shape, as numpy writes it.
func parseDict(s string) (Array, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return Array{}, fmt.Errorf("header %.80q is no dict", s)
	}
	keys := keyRe.FindAllStringSubmatch(s, -1)
	if len(keys) != 3 {
		return Array{}, fmt.Errorf("header %.80q: want the keys descr, fortran_order, shape", s)
	}
	d, fo, sh := descrRe.FindStringSubmatch(s), fortranRe.FindStringSubmatch(s), shapeRe.FindStringSubmatch(s)
	if d == nil || fo == nil || sh == nil {
		return Array{}, fmt.Errorf("header %.80q: want the keys descr, fortran_order, shape", s)
	}
	var a Array
	for dt, name := range descrs {
		if name == d[1] {
			a.DType = dt
		}
	}
	if a.DType == 0 {
		return Array{}, fmt.Errorf("dtype %q, want one of <f4 <f2 <f8 <i8 <i4 |i1 |u1 |b1", d[1])
	}
	if fo[1] == "True" {
		return Array{}, fmt.Errorf("fortran_order True; write C order")
	}
	for _, f := range strings.Split(sh[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return Array{}, fmt.Errorf("shape (%s): %v", sh[1], err)
		}
		a.Shape = append(a.Shape, v)
	}
	if a.Shape == nil {
		a.Shape = []int64{}
	}
	return a, nil
}
