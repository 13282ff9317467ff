package inputs

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/onnx/tensorproto"
)

// TestData is what ReadTestData reads from an ONNX test-data directory
// (the layout of onnxruntime_perf_test and onnx's backend tests: a model
// directory holding test_data_set_N/input_K.pb and output_K.pb).
type TestData struct {
	// Inputs are per input (feeds' order) the sets' tensors one after the
	// other along the batch axis: Items × ItemBytes bytes each.
	Inputs [][]byte
	Items  int
	Sets   []Set
	// Notes name the outputs left out of the expected values: not tensors
	// (sequences, maps) or of a dtype ortbench does not compare.
	Notes []string
}

// Set is one test_data_set_N: one call's worth of items, and the outputs
// that call is expected to give.
type Set struct {
	Dir   string
	Items int
	// Outputs are per model output (outputs' order) the expected tensor;
	// nil where the set has no output_K.pb for it or it is left out (Notes).
	Outputs []*tensorproto.Tensor
}

var (
	setName  = regexp.MustCompile(`^test_data_set_(\d+)$`)
	fileName = regexp.MustCompile(`^(input|output)_(\d+)\.pb$`)
)

// ReadTestData reads every dir/test_data_set_N (in N's numeric order). In
// each, input_K.pb is matched to the feed of its tensor's name when it has
// one, else to feeds[K]; its dtype and per-item shape must be the feed's,
// and every input must hold the same number of items (a free batch axis
// takes any count, a fixed one Batch, none 1). output_K.pb is matched to
// outputs the same way; outputs may be nil, then none are read. Errors are
// one line naming the file.
func ReadTestData(dir string, feeds []onnx.Feed, outputs []onnx.TensorInfo) (*TestData, error) {
	if len(feeds) == 0 {
		return nil, fmt.Errorf("%s: the model has no inputs to read", dir)
	}
	sets, err := setDirs(dir)
	if err != nil {
		return nil, err
	}
	td := &TestData{Inputs: make([][]byte, len(feeds)), Notes: outputNotes(outputs)}
	for _, sd := range sets {
		set, in, err := readSet(sd, feeds, outputs)
		if err != nil {
			return nil, err
		}
		for i := range feeds {
			td.Inputs[i] = append(td.Inputs[i], in[i].Data...)
		}
		td.Items += set.Items
		td.Sets = append(td.Sets, set)
	}
	return td, nil
}

// setDirs lists dir's test_data_set_N directories by N.
func setDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type set struct {
		n    uint64
		path string
	}
	var sets []set
	for _, e := range entries {
		m := setName.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		n, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: set number out of range", filepath.Join(dir, e.Name()))
		}
		sets = append(sets, set{n, filepath.Join(dir, e.Name())})
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_N directories", dir)
	}
	slices.SortFunc(sets, func(a, b set) int { return cmp.Compare(a.n, b.n) })
	paths := make([]string, len(sets))
	for i, s := range sets {
		paths[i] = s.path
	}
	return paths, nil
}

// readSet reads one set: its inputs matched to feeds, and its outputs.
func readSet(dir string, feeds []onnx.Feed, outputs []onnx.TensorInfo) (Set, []tensorproto.Tensor, error) {
	files, err := pbFiles(dir)
	if err != nil {
		return Set{}, nil, err
	}
	names := make([]string, len(feeds))
	for i, f := range feeds {
		names[i] = f.Name
	}
	in, err := match(dir, "input", files["input"], names, nil)
	if err != nil {
		return Set{}, nil, err
	}
	set := Set{Dir: dir, Items: -1}
	for i, f := range feeds {
		n, err := itemsOf(in[i], f)
		if err != nil {
			return Set{}, nil, fmt.Errorf("%s: input %s: %w", in[i].path, f.Name, err)
		}
		if set.Items >= 0 && n != set.Items {
			return Set{}, nil, fmt.Errorf("%s: input %s holds %d items, input %s %d", dir, f.Name, n, feeds[0].Name, set.Items)
		}
		set.Items = n
	}
	if set.Outputs, err = readOutputs(dir, files["output"], outputs); err != nil {
		return Set{}, nil, err
	}
	ts := make([]tensorproto.Tensor, len(in))
	for i := range in {
		ts[i] = in[i].Tensor
	}
	return set, ts, nil
}

// pbFiles lists a set's input_K.pb and output_K.pb files by kind and K.
func pbFiles(dir string) (map[string]map[int]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]map[int]string{"input": {}, "output": {}}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		k, err := strconv.Atoi(m[2])
		if err != nil {
			return nil, fmt.Errorf("%s: index out of range", filepath.Join(dir, e.Name()))
		}
		files[m[1]][k] = filepath.Join(dir, e.Name())
	}
	return files, nil
}

// found is a tensor read from path.
type found struct {
	tensorproto.Tensor
	path string
}

// match reads the files (K → path) and assigns each to one of names: by the
// tensor's name when it has one, else by K. Every input must get one file.
// A file that is no TensorProto is passed over where skip(K) says so (the
// output_K of a sequence or map).
func match(dir, kind string, files map[int]string, names []string, skip func(k int) bool) ([]found, error) {
	out := make([]found, len(names))
	ks := make([]int, 0, len(files))
	for k := range files {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		t, err := tensorproto.Read(files[k])
		if err != nil && skip != nil && skip(k) {
			continue
		}
		if err != nil {
			return nil, err
		}
		i := k
		if t.Name != "" {
			i = slices.Index(names, t.Name)
		}
		switch {
		case i < 0 || i >= len(names):
			return nil, fmt.Errorf("%s: tensor %q matches no model %s (%ss: %s)", files[k], t.Name, kind, kind, strings.Join(names, ", "))
		case out[i].path != "":
			return nil, fmt.Errorf("%s: %s %s is also in %s", files[k], kind, names[i], out[i].path)
		}
		out[i] = found{t, files[k]}
	}
	for i, f := range out {
		if f.path == "" && kind == "input" {
			return nil, fmt.Errorf("%s: no %s_%d.pb (or tensor named %s) for input %s", dir, kind, i, names[i], names[i])
		}
	}
	return out, nil
}

// itemsOf checks a tensor against the feed and counts its items.
func itemsOf(t found, f onnx.Feed) (int, error) {
	if t.DType != f.DType {
		return 0, fmt.Errorf("dtype %s, the model takes %s", t.DType, f.DType)
	}
	dims, n := t.Dims, 1
	switch {
	case f.Batch == 0 && len(dims) == len(f.Item)+1:
		n, dims = int(dims[0]), dims[1:]
	case f.Batch > 0 && len(dims) == len(f.Item)+1 && dims[0] == int64(f.Batch):
		n, dims = f.Batch, dims[1:]
	}
	if !slices.Equal(dims, f.Item) || n < 1 {
		return 0, fmt.Errorf("dims %v, the model takes %s", t.Dims, feedShape(f))
	}
	return n, nil
}

// feedShape writes the shape a feed takes: [batch, 3, 224, 224].
func feedShape(f onnx.Feed) string {
	s := "["
	switch {
	case f.Batch == 0:
		s += "batch"
	case f.Batch > 0:
		s += strconv.Itoa(f.Batch)
	}
	for i, d := range f.Item {
		if i > 0 || f.Batch >= 0 {
			s += ", "
		}
		s += strconv.FormatInt(d, 10)
	}
	return s + "]"
}

// outputNotes names the outputs ReadTestData leaves out.
func outputNotes(outputs []onnx.TensorInfo) []string {
	var notes []string
	for _, o := range outputs {
		if _, ok := outputDType(o); !ok {
			notes = append(notes, fmt.Sprintf("output %s (%s) has no expected values: ortbench compares tensors of %s", o.Name, o.TypeString(), feedable))
		}
	}
	return notes
}

const feedable = "float32, float16, float64, int64, int32, int8, uint8 and bool"

func outputDType(o onnx.TensorInfo) (onnx.DType, bool) {
	if o.Type != "tensor" {
		return 0, false
	}
	return onnx.ParseDType(o.DType)
}

// readOutputs reads a set's expected outputs and checks each against the
// model's declared dtype and shape (a dynamic dimension takes any size).
func readOutputs(dir string, files map[int]string, outputs []onnx.TensorInfo) ([]*tensorproto.Tensor, error) {
	if outputs == nil {
		return nil, nil
	}
	names := make([]string, len(outputs))
	for i, o := range outputs {
		names[i] = o.Name
	}
	skip := func(k int) bool {
		if k >= len(outputs) {
			return false
		}
		_, ok := outputDType(outputs[k])
		return !ok
	}
	got, err := match(dir, "output", files, names, skip)
	if err != nil {
		return nil, err
	}
	out := make([]*tensorproto.Tensor, len(outputs))
	for i, o := range outputs {
		d, ok := outputDType(o)
		if !ok || got[i].path == "" {
			continue
		}
		if t := got[i]; t.DType != d || !fits(t.Dims, o.Shape) {
			return nil, fmt.Errorf("%s: output %s is %s%v, the model gives %s", t.path, o.Name, t.DType, t.Dims, o.TypeString())
		}
		out[i] = &got[i].Tensor
	}
	return out, nil
}

// fits says whether dims agree with a declared shape (-1: any size).
func fits(dims, shape []int64) bool {
	if len(dims) != len(shape) {
		return false
	}
	for i, d := range shape {
		if d >= 0 && dims[i] != d {
			return false
		}
	}
	return true
}
