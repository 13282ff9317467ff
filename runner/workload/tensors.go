package workload

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ortbench/ortbench/internal/npz"
	"github.com/ortbench/ortbench/runner/inputs"

	"github.com/ortbench/ortbench/onnx"
)

// Tensors is an ONNX model of any shape over item records held in memory:
// every input of the model fed (any count, rank and dtype, onnx.Feed),
// from inputs generated before the run or read from the ONNX test-data
// layout. One item is the unit of the model's batch axis (an image, a
// sequence); a model whose batch is fixed at N takes N items a call.
type Tensors struct {
	model    *onnx.Model
	feeds    []onnx.Feed
	items    int
	data     []byte
	layout   []onnx.Output
	skipped  []string
	origin   Origin
	expected *Outputs
	shared

	npzOnce         sync.Once
	npzDir, npzPath string
	npzErr          error
}

var _ Workload = (*Tensors)(nil)

// Origin says where a Tensors workload's records came from, so that a
// worker process can make the same ones (transport replicate) and results
// can say it.
type Origin struct {
	// Generated: the specs by input name, and the seed.
	Specs map[string]string `json:"specs,omitempty"`
	Seed  uint64            `json:"seed,omitempty"`
	// TestData is the ONNX test-data directory the records were read from.
	TestData string `json:"test_data,omitempty"`
	// Dataset is the file some inputs' columns were read from (specs
	// "column:NAME").
	Dataset string `json:"dataset,omitempty"`
}

// NewTensors makes the workload of m fed as feeds with items records in
// data (onnx.RecordBytes(feeds) bytes each). It learns the output layout
// from a throwaway session. onnx.Init must have run.
func NewTensors(m *onnx.Model, feeds []onnx.Feed, data []byte, items int, origin Origin) (*Tensors, error) {
	rb := onnx.RecordBytes(feeds)
	if items < 1 || len(data) != items*rb {
		return nil, fmt.Errorf("%s: %d bytes for %d items of %d bytes", m.Path, len(data), items, rb)
	}
	if n := onnx.ItemsPerCall(feeds); n > 1 && items%n != 0 {
		return nil, fmt.Errorf("%s: %d items do not fill calls of %d (the model fixes its batch at %d)", m.Path, items, n, n)
	}
	s, err := onnx.NewSessionFeeds(m, feeds, onnx.DefaultOptions())
	if err != nil {
		return nil, err
	}
	layout, skipped := s.Outputs(), s.Skipped()
	s.Close()
	if len(layout) == 0 {
		return nil, fmt.Errorf("%s: no tensor output to verify (%v are not tensors)", m.Path, skipped)
	}
	return &Tensors{model: m, feeds: feeds, items: items, data: data, layout: layout, skipped: skipped, origin: origin}, nil
}

func (w *Tensors) Kind() string               { return "onnx" }
func (w *Tensors) Rows() int                  { return w.items }
func (w *Tensors) RecordBytes() int           { return onnx.RecordBytes(w.feeds) }
func (w *Tensors) Data() []byte               { return w.data }
func (w *Tensors) Layout() []onnx.Output      { return w.layout }
func (w *Tensors) UsesORT() bool              { return true }
func (w *Tensors) ModelInfo() *onnx.Model     { return w.model }
func (w *Tensors) Feeds() []onnx.Feed         { return w.feeds }
func (w *Tensors) Origin() Origin             { return w.origin }
func (w *Tensors) Describe() (string, string) { return w.model.Path, w.origin.describe() }

// Skipped names the model's outputs that are not tensors (sequences, maps
// such as scikit-learn's ZipMap): never asked of ONNX Runtime, left out of
// verification.
func (w *Tensors) Skipped() []string { return w.skipped }

// Expected is the outputs the reference pass must match (the test data's),
// or nil.
func (w *Tensors) Expected() *Outputs { return w.expected }

// SetExpected sets them, before the workload is used: they are read in the
// workload's own output layout, known only once it is built.
func (w *Tensors) SetExpected(e *Outputs) { w.expected = e }

// ItemsPerCall is 0 when the batch is free, else the items every call takes.
func (w *Tensors) ItemsPerCall() int { return onnx.ItemsPerCall(w.feeds) }

// InputLines describe each input: one item's dtype and shape, and where
// its values come from ("input_ids: int64[128] int:0,30522").
func (w *Tensors) InputLines() []string {
	lines := make([]string, len(w.feeds))
	for i, f := range w.feeds {
		dims := make([]string, len(f.Item))
		for j, d := range f.Item {
			dims[j] = fmt.Sprint(d)
		}
		lines[i] = fmt.Sprintf("%s: %s[%s]", f.Name, f.DType, strings.Join(dims, ", "))
		switch {
		case f.Batch > 0:
			lines[i] += fmt.Sprintf(" (batch fixed at %d)", f.Batch)
		case f.Batch < 0:
			lines[i] += " (no batch axis)"
		}
		if s := w.origin.Specs[f.Name]; s != "" {
			lines[i] += " " + s
		}
	}
	return lines
}

func (o Origin) describe() string {
	switch {
	case o.TestData != "":
		return o.TestData
	case o.Dataset != "":
		return o.Dataset
	}
	return "generated inputs"
}

// Share moves the records into shared memory (Sharer).
func (w *Tensors) Share() (*os.File, error) { return w.share(&w.data, w.items, w.RecordBytes()) }

// Open creates one ORT session.
func (w *Tensors) Open(opts onnx.Options) (Engine, error) {
	s, err := onnx.NewSessionFeeds(w.model, w.feeds, opts)
	if err != nil {
		return nil, err
	}
	return &modelEngine{s: s}, nil
}

// OpenSource streams the records from memory (the pipeline's reader).
func (w *Tensors) OpenSource() (Source, error) { return &memSource{data: w.data}, nil }

// Remote describes the workload to a worker process; a worker of transport
// replicate makes the same records again from the origin (LoadData).
func (w *Tensors) Remote() Remote {
	o := w.origin
	return Remote{Kind: w.Kind(), Model: w.model.Path, RecordBytes: w.RecordBytes(), Feeds: w.feeds, Origin: &o}
}

// NPZ writes the inputs once, as a numpy .npz (internal/npz: one array per
// input, [items, item dims…]), for the Python twin to read the very values
// the Go strategies feed; later calls return the same path. Close removes it.
func (w *Tensors) NPZ() (string, error) {
	w.npzOnce.Do(func() {
		per, err := inputs.Split(w.feeds, w.data, w.items)
		if err != nil {
			w.npzErr = err
			return
		}
		arrays, err := npz.OfFeeds(w.feeds, per, w.items)
		if err != nil {
			w.npzErr = err
			return
		}
		dir, err := os.MkdirTemp("", "ortbench-inputs-*")
		if err != nil {
			w.npzErr = err
			return
		}
		w.npzDir, w.npzPath = dir, filepath.Join(dir, "inputs.npz")
		w.npzErr = npz.Write(w.npzPath, arrays)
	})
	return w.npzPath, w.npzErr
}

// Close removes what NPZ wrote.
func (w *Tensors) Close() error {
	if w.npzDir == "" {
		return nil
	}
	return os.RemoveAll(w.npzDir)
}

// Close releases what a workload holds beyond its memory (the Python
// twin's input file); a no-op for workloads that hold nothing.
func Close(w Workload) error {
	if c, ok := w.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// records makes the origin's records again in a worker process (transport
// replicate): the same specs and seed give the same bytes; test data is
// read again.
func (o Origin) records(feeds []onnx.Feed, items int) ([]byte, error) {
	var per [][]byte
	if o.Dataset != "" {
		return nil, fmt.Errorf("inputs read from %s's columns are not made again in a worker: use transport shared or copy", o.Dataset)
	}
	if o.TestData != "" {
		td, err := inputs.ReadTestData(o.TestData, feeds, nil)
		if err != nil {
			return nil, err
		}
		if td.Items != items {
			return nil, fmt.Errorf("%s: %d items, the parent has %d", o.TestData, td.Items, items)
		}
		per = td.Inputs
	} else {
		specs := make(map[string]inputs.Spec, len(o.Specs))
		for name, s := range o.Specs {
			sp, err := inputs.ParseSpec(s)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", name, err)
			}
			specs[name] = sp
		}
		var err error
		if per, err = inputs.Generate(feeds, specs, items, o.Seed); err != nil {
			return nil, err
		}
	}
	return inputs.Interleave(feeds, per, items)
}
