package pyproc

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

// Workload is what the cell runs: a model over a dataset, or the heavy task.
type Workload struct {
	Kind     string   `json:"kind"` // "onnx" | "heavy-task"
	Model    string   `json:"model,omitempty"`
	Dataset  string   `json:"dataset,omitempty"`
	Features []string `json:"features,omitempty"`
	Rows     int      `json:"rows"`
	Width    int      `json:"width"`
	Cost     int      `json:"cost,omitempty"`
}

// Session holds the ORT session options Python sets as Go does.
type Session struct {
	GraphOptimization string `json:"graph_optimization"`
	MemArena          bool   `json:"mem_arena"`
	MemPattern        bool   `json:"mem_pattern"`
}

// Output is one output in the layout.
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
