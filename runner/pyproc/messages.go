package pyproc

import "github.com/ortbench/ortbench/onnx"

// The control messages, one JSON object per line each way. Their Python
// side is baselines/python/ortbench_py/runner.py.

// StartMsg is the start message: the cell, its workload and the layout of
// the outputs a pass sends back.
type StartMsg struct {
	Op       string   `json:"op"` // "start"
	Strategy string   `json:"strategy"`
	Params   Params   `json:"params"`
	Workload Workload `json:"workload"`
	Session  Session  `json:"session"`
	Layout   []Output `json:"layout"`
}

// Params are the cell's parameters as the Python runner takes them.
type Params struct {
	BatchSize   int    `json:"batch_size"`
	Workers     int    `json:"workers"`
	Threads     int    `json:"threads"`
	StartMethod string `json:"start_method,omitempty"`
	Data        string `json:"data,omitempty"`
	Spinning    bool   `json:"spinning"`
}

// Workload is what the cell runs: a model over a dataset or over an inputs
// file, or the heavy task.
type Workload struct {
	Kind     string   `json:"kind"` // "onnx" | "heavy-task"
	Model    string   `json:"model,omitempty"`
	Dataset  string   `json:"dataset,omitempty"`
	Features []string `json:"features,omitempty"`
	// Inputs is the .npz (internal/npz) holding every model input as an
	// array [items, item dims...] named as the input; when set, Dataset
	// and Features are unused and Feeds says how each array is fed.
	Inputs string `json:"inputs,omitempty"`
	Feeds  []Feed `json:"feeds,omitempty"`
	Rows   int    `json:"rows"` // items, for a model fed from Inputs
	Width  int    `json:"width"`
	Cost   int    `json:"cost,omitempty"`
}

// Feed is one model input fed from Workload.Inputs, in model order (Python's
// side checks the model's inputs are exactly these). It mirrors onnx.Feed:
// DType is onnx.DType's name; Item the dimensions of one item; Batch 0 = a
// free batch axis (a call feeds items [start, start+n)), N > 0 = the model
// fixes it at N (batch_size must be N), -1 = no batch axis (a call is one
// item, fed with the items axis stripped; batch_size must be 1).
type Feed struct {
	Name  string  `json:"name"`
	DType string  `json:"dtype"`
	Item  []int64 `json:"item"`
	Batch int     `json:"batch"`
}

// WireKind is the Output and Block kind an output of element type d travels
// as, converted as the Go side stores outputs: float32, float16 and float64
// as float32; integers and bool as int64. Outputs that are no tensors
// (sequences, maps such as ZipMap) have no kind: leave them out of the
// layout.
func WireKind(d onnx.DType) string {
	switch d {
	case onnx.DFloat32, onnx.DFloat16, onnx.DFloat64:
		return "float32"
	}
	return "int64"
}

// Session holds the ORT session options Python sets as Go does.
type Session struct {
	GraphOptimization string `json:"graph_optimization"`
	MemArena          bool   `json:"mem_arena"`
	MemPattern        bool   `json:"mem_pattern"`
}

// Output is one output in the layout: a tensor output, Kind as WireKind
// says, Width its values per item (the whole output of a one-item call
// when the model has no batch axis).
type Output struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"` // "int64" | "float32"
	Width int    `json:"width"`
}

// Reply is every reply's header.
type Reply struct {
	OK        bool   `json:"ok"`
	Op        string `json:"op"`
	Error     string `json:"error"`
	Skip      bool   `json:"skip"` // the failure is the environment's (a missing package)
	Traceback string `json:"traceback"`
	// pass
	N      int     `json:"n"`
	Rows   int     `json:"rows"`
	Blocks []Block `json:"blocks"`
	Ready
}

// Ready is what the start reply says about the Python side.
type Ready struct {
	PID    int `json:"pid"`
	Python struct {
		Implementation string `json:"implementation"`
		Version        string `json:"version"`
		FreeThreaded   bool   `json:"free_threaded"`
		GILEnabled     bool   `json:"gil_enabled"`
		Executable     string `json:"executable"`
	} `json:"python"`
	ORT struct {
		Version string `json:"version"`
		Library string `json:"library"`
	} `json:"onnxruntime"`
}

// Block names one raw array that follows a pass reply: Count elements of
// Kind ("int64" | "float32"), little-endian.
type Block struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// FeedsOf is the Feeds of a model's inputs, in their order.
func FeedsOf(feeds []onnx.Feed) []Feed {
	out := make([]Feed, len(feeds))
	for k, f := range feeds {
		out[k] = Feed{Name: f.Name, DType: f.DType.String(), Item: f.Item, Batch: f.Batch}
	}
	return out
}
