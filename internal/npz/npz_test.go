package npz

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
)

// sample is one array of every dtype, ranks 0 to 3, one of them empty.
func sample() []Array {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + 1)
		}
		return b
	}
	return []Array{
		{"x_f32", onnx.DFloat32, []int64{2, 3}, seq(24)},
		{"x_f16", onnx.DFloat16, []int64{2, 2, 2}, seq(16)},
		{"x_f64", onnx.DFloat64, []int64{3}, seq(24)},
		{"ids", onnx.DInt64, []int64{1, 1, 2}, seq(16)},
		{"i32", onnx.DInt32, []int64{}, seq(4)},
		{"i8", onnx.DInt8, []int64{5}, seq(5)},
		{"u8", onnx.DUint8, []int64{0, 4}, []byte{}},
		{"mask", onnx.DBool, []int64{3, 1}, []byte{1, 0, 1}},
		{"input:0/with odd name", onnx.DFloat32, []int64{1}, seq(4)},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.npz")
	want := sample()
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
	// Every member's data starts 64-byte aligned in the file.
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for i, m := range zr.File {
		off, err := m.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		if h := int64(len(header(want[i]))); (off+h)%align != 0 || off%align != 0 {
			t.Errorf("%s: member at %d, data at %d: not %d-aligned", m.Name, off, off+h, align)
		}
	}
	if leftover, _ := filepath.Glob(path + "*.tmp"); len(leftover) > 0 {
		t.Errorf("temporary files left: %v", leftover)
	}
}

// TestNumpyReadsIt has numpy.load read what Write wrote, and Read read what
// numpy.savez wrote.
func TestNumpyReadsIt(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "go.npz")
	arrays := sample()
	if err := Write(path, arrays); err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys, numpy as np
z = np.load(sys.argv[1])
out = {k: {"dtype": z[k].dtype.str, "shape": list(z[k].shape), "hex": z[k].tobytes().hex()} for k in z.files}
print(json.dumps({"files": z.files, "arrays": out}))
np.savez(sys.argv[2], **{k: z[k] for k in z.files})
`
	back := filepath.Join(dir, "numpy.npz")
	out, err := exec.Command(py, "-c", script, path, back).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	var got struct {
		Files  []string
		Arrays map[string]struct {
			DType string
			Shape []int64
			Hex   string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i, a := range arrays {
		g := got.Arrays[a.Name]
		if got.Files[i] != a.Name || g.DType != descrs[a.DType] || !reflect.DeepEqual(g.Shape, a.Shape) || g.Hex != hexOf(a.Data) {
			t.Errorf("numpy read %q as %+v (file %q), want %s %v %s", a.Name, g, got.Files[i], descrs[a.DType], a.Shape, hexOf(a.Data))
		}
	}
	fromNumpy, err := Read(back)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromNumpy, arrays) {
		t.Fatalf("read numpy's file as\n%+v\nwant\n%+v", fromNumpy, arrays)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// python is the baseline's interpreter (it has numpy), or a skip.
func python(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	py := filepath.Join(filepath.Dir(file), "..", "..", "baselines", "python", ".venv", "bin", "python")
	if p := os.Getenv("ORTBENCH_PYTHON"); p != "" {
		py = p
	}
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no Python environment (%v): create it with `make py-env`", err)
	}
	return py
}

func TestWriteRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		a    []Array
		want string
	}{
		{[]Array{{"", onnx.DFloat32, []int64{1}, make([]byte, 4)}}, "without a name"},
		{[]Array{{"x", onnx.DType(99), []int64{1}, make([]byte, 4)}}, "cannot be written"},
		{[]Array{{"x", onnx.DFloat32, []int64{2}, make([]byte, 4)}}, "4 bytes for shape [2]"},
		{[]Array{{"x", onnx.DFloat32, []int64{-1}, nil}}, "negative dimension"},
		{[]Array{{"x", onnx.DUint8, []int64{1 << 40, 1 << 40}, nil}}, "more than"},
		{[]Array{{"x", onnx.DUint8, []int64{1}, []byte{1}}, {"x", onnx.DUint8, []int64{1}, []byte{1}}}, `"x" twice`},
	} {
		path := filepath.Join(dir, "bad.npz")
		err := Write(path, c.a)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("Write(%+v): %v, want %q", c.a, err, c.want)
		}
		if _, serr := os.Stat(path); serr == nil {
			t.Errorf("a refused write left %s", path)
		}
	}
}

// zipOf is a zip of the given members (stored unless deflate).
func zipOf(t testing.TB, deflate bool, members map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range members {
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func npy(dict string, data []byte) []byte {
	h := []byte("\x93NUMPY\x01\x00")
	h = append(h, byte(len(dict)+1), byte((len(dict)+1)>>8))
	h = append(h, dict...)
	h = append(h, '\n')
	return append(h, data...)
}

func TestReadRefuses(t *testing.T) {
	f4 := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	for _, c := range []struct {
		name    string
		deflate bool
		members map[string][]byte
		want    string
	}{
		{"compressed", true, map[string][]byte{"x.npy": npy(f4, make([]byte, 8))}, "compressed"},
		{"not npy", false, map[string][]byte{"x.txt": []byte("hi")}, "not NAME.npy"},
		{"bad magic", false, map[string][]byte{"x.npy": []byte("\x93NUMPX\x01\x00\x00\x00")}, "bad magic"},
		{"short data", false, map[string][]byte{"x.npy": npy(f4, make([]byte, 4))}, "is 8 bytes, the member holds 4"},
		{"extra data", false, map[string][]byte{"x.npy": npy(f4, make([]byte, 12))}, "the member holds 12"},
		{"big-endian", false, map[string][]byte{"x.npy": npy(strings.Replace(f4, "<f4", ">f4", 1), make([]byte, 8))}, `dtype ">f4"`},
		{"fortran", false, map[string][]byte{"x.npy": npy(strings.Replace(f4, "False", "True", 1), make([]byte, 8))}, "fortran_order True"},
		{"huge shape", false, map[string][]byte{"x.npy": npy(strings.Replace(f4, "(2,)", "(4294967296, 4294967296)", 1), nil)}, "more than"},
		{"version", false, map[string][]byte{"x.npy": []byte("\x93NUMPY\x09\x00\x00\x00")}, "format 9.0"},
		{"no dict", false, map[string][]byte{"x.npy": npy("[]", nil)}, "no dict"},
		{"extra key", false, map[string][]byte{"x.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", make([]byte, 4))}, "want the keys"},
	} {
		b := zipOf(t, c.deflate, c.members)
		_, err := read(bytes.NewReader(b), int64(len(b)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	path := filepath.Join(t.TempDir(), "junk.npz")
	os.WriteFile(path, []byte("not a zip"), 0o644)
	if _, err := Read(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("junk file: %v, want an error naming it", err)
	}
}

// FuzzRead: no input makes the reader panic or allocate beyond the file;
// what it accepts, it writes back and reads again the same.
func FuzzRead(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.npz")
	if err := Write(path, sample()); err != nil {
		f.Fatal(err)
	}
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add(zipOf(f, false, map[string][]byte{"x.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", make([]byte, 8))}))
	f.Fuzz(func(t *testing.T, b []byte) {
		arrays, err := read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		total := 0
		for _, a := range arrays {
			total += len(a.Data)
		}
		if total > len(b) {
			t.Fatalf("%d bytes of arrays from a %d-byte file", total, len(b))
		}
		var buf bytes.Buffer
		if err := write(&buf, arrays); err != nil {
			t.Fatalf("accepted %+v but cannot write it: %v", arrays, err)
		}
		again, err := read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil || !reflect.DeepEqual(again, arrays) && len(arrays) > 0 {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, again, arrays)
		}
	})
}

func TestOfFeeds(t *testing.T) {
	feeds := []onnx.Feed{{Name: "ids", DType: onnx.DInt64, Item: []int64{2}}, {Name: "img", DType: onnx.DFloat16, Item: []int64{2, 2}, Batch: -1}}
	a, err := OfFeeds(feeds, [][]byte{make([]byte, 3*16), make([]byte, 3*8)}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a[0].Shape, []int64{3, 2}) || !reflect.DeepEqual(a[1].Shape, []int64{3, 2, 2}) || a[1].DType != onnx.DFloat16 || a[1].Name != "img" {
		t.Fatalf("OfFeeds: %+v", a)
	}
	if _, err := OfFeeds(feeds, [][]byte{make([]byte, 48), make([]byte, 23)}, 3); err == nil || !strings.Contains(err.Error(), `input "img": 23 bytes`) {
		t.Errorf("short input: %v", err)
	}
	if _, err := OfFeeds(feeds, nil, 3); err == nil {
		t.Error("no data for two inputs: no error")
	}
}
