package inputs

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
)

// multiFeeds are the inputs of testdata/multi: sets 0, 1, 2 and 10 with 1,
// 2, 1 and 3 items, written by numpy_helper.from_array; set 1's tensors
// are unnamed (matched by K), set 2's files are in reverse model order
// (matched by name).
var multiFeeds = []onnx.Feed{
	{Name: "input_ids", DType: onnx.DInt64, Item: []int64{4}},
	{Name: "mask", DType: onnx.DBool, Item: []int64{4}},
	{Name: "scale", DType: onnx.DFloat16, Item: []int64{2}},
}

var multiOut = []onnx.TensorInfo{{Name: "out", Type: "tensor", DType: "float32", Shape: []int64{-1, 1}}}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestReadTestDataMulti(t *testing.T) {
	td, err := ReadTestData(filepath.Join("testdata", "multi"), multiFeeds, multiOut)
	if err != nil {
		t.Fatal(err)
	}
	if td.Items != 7 || len(td.Sets) != 4 {
		t.Fatalf("%d items in %d sets, want 7 in 4", td.Items, len(td.Sets))
	}
	// numpy's np.concatenate of each input over the sets in numeric order.
	want := []string{
		"8f8d8f432216a4f9a14325c31681a8b734669776fa864067f056b486e46a5c02",
		"a6f77eac99847595657ed57d196bd97ffdfd502b99d69c34a0902cfa6a402d53",
		"d517f2ae78d7071147ff6643980c5f955a8d6bfaff84d9152ac2a248cca655f2",
	}
	for i, w := range want {
		if got := sha(td.Inputs[i]); got != w {
			t.Errorf("%s: sha256 %s, numpy's %s", multiFeeds[i].Name, got, w)
		}
	}
	for i, n := range []int{1, 2, 1, 3} {
		if s := td.Sets[i]; s.Items != n || len(s.Outputs) != 1 || s.Outputs[0] == nil {
			t.Fatalf("set %d (%s): %d items, outputs %v", i, s.Dir, s.Items, s.Outputs)
		}
	}
	last := td.Sets[3]
	if filepath.Base(last.Dir) != "test_data_set_10" || sha(last.Outputs[0].Data) != "d35a29c53ccfa0ce8a98fd9435c504824a861254343ec6a48d242e6297816200" {
		t.Errorf("last set %s, output sha256 %s", last.Dir, sha(last.Outputs[0].Data))
	}
	if td.Notes != nil {
		t.Errorf("notes %v", td.Notes)
	}
	noOut, err := ReadTestData(filepath.Join("testdata", "multi"), multiFeeds, nil)
	if err != nil || noOut.Sets[0].Outputs != nil {
		t.Errorf("outputs read without being asked: %v %v", noOut.Sets[0].Outputs, err)
	}
}

// TestReadTestDataAdd reads onnx's own backend test data for Add (x, y
// float32 [3, 4, 5]) with each reading of the batch axis.
func TestReadTestDataAdd(t *testing.T) {
	dir := filepath.Join("testdata", "add")
	out := []onnx.TensorInfo{{Name: "sum", Type: "tensor", DType: "float32", Shape: []int64{3, 4, 5}}}
	cases := []struct {
		batch int
		item  []int64
		items int
	}{{0, []int64{4, 5}, 3}, {3, []int64{4, 5}, 3}, {-1, []int64{3, 4, 5}, 1}}
	for _, c := range cases {
		feeds := []onnx.Feed{{Name: "x", DType: onnx.DFloat32, Item: c.item, Batch: c.batch}, {Name: "y", DType: onnx.DFloat32, Item: c.item, Batch: c.batch}}
		td, err := ReadTestData(dir, feeds, out)
		if err != nil {
			t.Fatalf("batch %d: %v", c.batch, err)
		}
		if td.Items != c.items || len(td.Inputs[0]) != 240 || len(td.Inputs[1]) != 240 {
			t.Errorf("batch %d: %d items, %d+%d bytes", c.batch, td.Items, len(td.Inputs[0]), len(td.Inputs[1]))
		}
		if o := td.Sets[0].Outputs[0]; o == nil || o.Name != "sum" || len(o.Data) != 240 {
			t.Errorf("batch %d: output %v", c.batch, o)
		}
	}
}

// copyDir copies testdata/src into a temporary directory to break.
func copyDir(t *testing.T, src string) string {
	dst := t.TempDir()
	err := filepath.WalkDir(filepath.Join("testdata", src), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join("testdata", src), p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestReadTestDataErrors(t *testing.T) {
	with := func(i int, f func(*onnx.Feed)) []onnx.Feed {
		feeds := append([]onnx.Feed(nil), multiFeeds...)
		f(&feeds[i])
		return feeds
	}
	set := func(dir string, n int) string { return filepath.Join(dir, "test_data_set_"+string(rune('0'+n))) }
	cases := []struct {
		name    string
		breakIt func(dir string) error
		feeds   []onnx.Feed
		outputs []onnx.TensorInfo
		want    string // after the directory, "" = reads
	}{
		{"no sets", func(dir string) error { return os.RemoveAll(dir) }, multiFeeds, nil, "no such file"},
		{"empty", func(dir string) error {
			for _, n := range []string{"0", "1", "2", "10"} {
				if err := os.RemoveAll(filepath.Join(dir, "test_data_set_"+n)); err != nil {
					return err
				}
			}
			return os.WriteFile(filepath.Join(dir, "test_data_set_x"), nil, 0o644)
		}, multiFeeds, nil, ": no test_data_set_N directories"},
		{"missing input", func(dir string) error { return os.Remove(filepath.Join(set(dir, 1), "input_2.pb")) }, multiFeeds, nil,
			"/test_data_set_1: no input_2.pb (or tensor named scale) for input scale"},
		{"dtype", nil, with(2, func(f *onnx.Feed) { f.DType = onnx.DFloat32 }), nil,
			"/test_data_set_0/input_2.pb: input scale: dtype float16, the model takes float32"},
		{"item shape", nil, with(0, func(f *onnx.Feed) { f.Item = []int64{5} }), nil,
			"/test_data_set_0/input_0.pb: input input_ids: dims [1 4], the model takes [batch, 5]"},
		{"fixed batch", nil, with(0, func(f *onnx.Feed) { f.Batch = 2 }), nil,
			"/test_data_set_0/input_0.pb: input input_ids: dims [1 4], the model takes [2, 4]"},
		{"no batch axis", nil, with(0, func(f *onnx.Feed) { f.Batch = -1 }), nil,
			"input input_ids: dims [1 4], the model takes [4]"},
		{"unknown name", nil, with(1, func(f *onnx.Feed) { f.Name = "attn" }), nil,
			`/test_data_set_0/input_1.pb: tensor "mask" matches no model input (inputs: input_ids, attn, scale)`},
		{"malformed", func(dir string) error {
			return os.WriteFile(filepath.Join(set(dir, 0), "input_1.pb"), []byte{0x0a, 0x05}, 0o644)
		}, multiFeeds, nil,
			"/test_data_set_0/input_1.pb: not a readable TensorProto"},
		{"items differ", func(dir string) error {
			b, err := os.ReadFile(filepath.Join(set(dir, 1), "input_2.pb")) // 2 items, unnamed
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(set(dir, 0), "input_2.pb"), b, 0o644)
		}, multiFeeds, nil, "/test_data_set_0: input scale holds 2 items, input input_ids 1"},
		{"duplicate", func(dir string) error {
			b, err := os.ReadFile(filepath.Join(set(dir, 0), "input_0.pb"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(set(dir, 0), "input_3.pb"), b, 0o644)
		}, multiFeeds, nil, "/test_data_set_0/input_3.pb: input input_ids is also in"},
		{"output dims", nil, multiFeeds, []onnx.TensorInfo{{Name: "out", Type: "tensor", DType: "float32", Shape: []int64{-1, 2}}},
			"/test_data_set_0/output_0.pb: output out is float32[1 1], the model gives float32[N, 2]"},
		{"output dtype", nil, multiFeeds, []onnx.TensorInfo{{Name: "out", Type: "tensor", DType: "float64", Shape: []int64{-1, 1}}},
			"output out is float32[1 1], the model gives float64[N, 1]"},
		{"output name", nil, multiFeeds, []onnx.TensorInfo{{Name: "probs", Type: "tensor", DType: "float32", Shape: []int64{-1, 1}}},
			`tensor "out" matches no model output (outputs: probs)`},
		{"no inputs", nil, nil, nil, ": the model has no inputs to read"},
		{"missing output", func(dir string) error { return os.Remove(filepath.Join(set(dir, 2), "output_0.pb")) }, multiFeeds, multiOut, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, "multi")
			if c.breakIt != nil {
				if err := c.breakIt(dir); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ReadTestData(dir, c.feeds, c.outputs)
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), dir) && c.name != "no sets" || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

// TestReadTestDataNonTensorOutput: a sequence output's output_K.pb is no
// TensorProto; it is passed over with a note, the other outputs still read.
func TestReadTestDataNonTensorOutput(t *testing.T) {
	dir := copyDir(t, "multi")
	for _, n := range []string{"0", "1", "2", "10"} {
		d := filepath.Join(dir, "test_data_set_"+n)
		if err := os.Rename(filepath.Join(d, "output_0.pb"), filepath.Join(d, "output_1.pb")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "output_0.pb"), []byte{0x0a, 0x05}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outs := []onnx.TensorInfo{{Name: "labels", Type: "sequence"}, multiOut[0]}
	td, err := ReadTestData(dir, multiFeeds, outs)
	if err != nil {
		t.Fatal(err)
	}
	if o := td.Sets[3].Outputs; o[0] != nil || o[1] == nil || o[1].Name != "out" {
		t.Errorf("outputs %v", o)
	}
	if len(td.Notes) != 1 || !strings.Contains(td.Notes[0], "output labels (sequence) has no expected values") {
		t.Errorf("notes %q", td.Notes)
	}
}

// TestReadTestDataConv reads onnx's pytorch-converted Conv2d_strided test
// data (model.onnx beside it: input "0" float32 [2, 3, 6, 6], batch fixed
// at 2; output "3" [2, 4, 2, 2]); its tensors are unnamed, so matched by K.
func TestReadTestDataConv(t *testing.T) {
	feeds := []onnx.Feed{{Name: "0", DType: onnx.DFloat32, Item: []int64{3, 6, 6}, Batch: 2}}
	outs := []onnx.TensorInfo{{Name: "3", Type: "tensor", DType: "float32", Shape: []int64{2, 4, 2, 2}}}
	td, err := ReadTestData(filepath.Join("testdata", "conv2d_strided"), feeds, outs)
	if err != nil {
		t.Fatal(err)
	}
	if td.Items != 2 || sha(td.Inputs[0]) != "3096fa865e9a3bb2259ac9b45c635566b3359bebc401cc96aea5ddea07374441" {
		t.Errorf("%d items, input sha256 %s", td.Items, sha(td.Inputs[0]))
	}
	if o := td.Sets[0].Outputs[0]; o == nil || sha(o.Data) != "c2547ecbe29d6d162b792402934543b6a2da0457c013dbb4933e2b5fd0d76b4c" {
		t.Errorf("output %v", o)
	}
}
