package onnx

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/ortbench/ortbench/onnx/graph"
)

// Profile summarises an ONNX Runtime profile (the Chrome-trace JSON a
// session writes when Options.ProfilePrefix is set): how the kernels' time
// splits by operator type.
type Profile struct {
	// KernelMicros is the time spent inside operator kernels, summed.
	KernelMicros int64
	// Runs counts the inference calls the profile holds (model_run events).
	Runs int
	// Ops are the operator types on each provider, largest share first.
	Ops []OpTime
	// Placement is where the nodes ran: one entry per execution provider,
	// most nodes first (the profile's node events name their provider).
	Placement []ProviderNodes
	// Threads is how the intra-op pool spent the kernels' time, from the
	// per-node thread_scheduling_stats ORT (1.17+) writes when the session
	// has more than one intra-op thread; nil without them.
	Threads *ThreadStats
}

// ThreadStats are ORT's intra-op thread-pool scheduling figures summed
// over the kernels that carry them. ORT times only the calling thread
// (the one that runs the session, itself one of the pool's threads): how
// long it handed out work, ran its own share and waited for the other
// threads; of the other threads it counts the tasks each ran. So the
// calling thread's split is measured, the other threads' busy time is not.
type ThreadStats struct {
	// Threads is the pool's size: the calling thread and the others seen.
	Threads int
	// KernelMicros is the time of the kernels with scheduling figures.
	KernelMicros int64
	// DistributionMicros, RunMicros and WaitMicros are the calling
	// thread's: handing out work, running its share, waiting for the rest.
	DistributionMicros, RunMicros, WaitMicros int64
	// SerialMicros is kernel time in calls that handed no work to the
	// pool (a kernel ORT does not split, or too small to split).
	SerialMicros int64
	// ParallelCalls are the kernel calls that split their work; OtherTasks
	// the tasks the other threads ran during them.
	ParallelCalls, OtherTasks int
	// Ops are the figures of each operator type that split its work,
	// largest kernel time first.
	Ops []OpThreads
}

// OpThreads is one operator type's share of the thread-pool figures.
type OpThreads struct {
	Op                                                      string
	KernelMicros, DistributionMicros, RunMicros, WaitMicros int64
	ParallelCalls, OtherTasks                               int
}

// OpTime is one operator type's share of the kernels' time on one
// provider (the same type on two providers is two entries).
type OpTime struct {
	Op       string
	Provider string // "CPUExecutionProvider"; "" when ORT named none
	Micros   int64
	Calls    int
	Share    float64 // of KernelMicros
}

// ProviderNodes is how many of the (optimised) graph's nodes one
// execution provider ran, their kernel time and their FLOPs. A compiling
// provider (OpenVINO) runs a fused subgraph as one node: its count is the
// subgraphs', not the model's nodes inside them, and a subgraph's FLOPs
// are unknown (its operators are not in the profile).
type ProviderNodes struct {
	Provider string
	Nodes    int
	Micros   int64
	// FLOPs sums, over every kernel call, the FLOPs graph.OpFLOPs finds
	// from the call's operator and tensor shapes. UnknownNodes are the
	// nodes it could not cost, UnknownMicros their kernel time.
	FLOPs         int64
	UnknownNodes  int
	UnknownMicros int64
}

// profileEvent is one Chrome-trace event of ORT's profiler.
type profileEvent struct {
	Cat  string `json:"cat"`
	Name string `json:"name"`
	Dur  int64  `json:"dur"`
	Args struct {
		OpName   string          `json:"op_name"`
		Provider string          `json:"provider"`
		Sched    json.RawMessage `json:"thread_scheduling_stats"`
		Inputs   json.RawMessage `json:"input_type_shape"`
		Outputs  json.RawMessage `json:"output_type_shape"`
	} `json:"args"`
}

// callFLOPs is one kernel call's FLOPs from the shapes ORT recorded:
// input_type_shape and output_type_shape are lists of {"float": [16, 64]}
// (one entry per present tensor; ORT leaves out weights a kernel
// prepacked). ok is false when they are absent or the op has no rule.
func (e *profileEvent) callFLOPs() (int64, bool) {
	outs := typeShapes(e.Args.Outputs)
	if len(outs) == 0 {
		return 0, false
	}
	return graph.OpFLOPs(e.Args.OpName, typeShapes(e.Args.Inputs), outs[0])
}

// typeShapes reads a type-shape list; an entry it cannot read is nil (an
// unknown shape), so an odd one costs that node its count, not the file.
func typeShapes(raw json.RawMessage) [][]int64 {
	var list []map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &list) != nil {
		return nil
	}
	out := make([][]int64, len(list))
	for i, m := range list {
		for _, dims := range m { // one entry: element type → dims
			var d []int64
			if json.Unmarshal(dims, &d) == nil && d != nil {
				out[i] = d
			}
		}
	}
	return out
}

// ReadProfile reads a profile file written by ORT.
func ReadProfile(path string) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, err
	}
	var events []profileEvent
	if err := json.Unmarshal(data, &events); err != nil {
		return Profile{}, fmt.Errorf("%s: not an ONNX Runtime profile: %v", path, err)
	}
	type opKey struct{ op, provider string }
	byOp := map[opKey]*OpTime{}
	var p Profile
	place := placeTally{nodes: map[string]string{}, byEP: map[string]*ProviderNodes{}}
	threads := threadTally{ops: map[string]*OpThreads{}, runs: map[string]int{}}
	for _, e := range events {
		if e.Cat == "Session" && e.Name == "model_run" {
			p.Runs++
		}
		if e.Cat != "Node" || !strings.HasSuffix(e.Name, "_kernel_time") || e.Args.OpName == "" {
			continue
		}
		k := opKey{e.Args.OpName, e.Args.Provider}
		o := byOp[k]
		if o == nil {
			o = &OpTime{Op: k.op, Provider: k.provider}
			byOp[k] = o
		}
		o.Micros += e.Dur
		o.Calls++
		p.KernelMicros += e.Dur
		flops, known := e.callFLOPs()
		place.add(strings.TrimSuffix(e.Name, "_kernel_time"), e.Args.Provider, e.Dur, flops, known)
		// With one intra-op thread ORT writes the stats as a string (an
		// empty pool's); only an object has figures.
		var st schedStats
		if len(e.Args.Sched) > 0 && e.Args.Sched[0] == '{' && json.Unmarshal(e.Args.Sched, &st) == nil {
			threads.add(e.Args.OpName, e.Dur, &st)
		}
	}
	p.Threads = threads.stats()
	p.Placement = place.list()
	for _, o := range byOp {
		if p.KernelMicros > 0 {
			o.Share = float64(o.Micros) / float64(p.KernelMicros)
		}
		p.Ops = append(p.Ops, *o)
	}
	sort.Slice(p.Ops, func(i, j int) bool {
		a, b := p.Ops[i], p.Ops[j]
		if a.Micros != b.Micros {
			return a.Micros > b.Micros
		}
		return a.Op+"\x00"+a.Provider < b.Op+"\x00"+b.Provider
	})
	return p, nil
}

// placeTally counts each node once (its first event's provider) and sums
// every provider's kernel time.
type placeTally struct {
	nodes map[string]string // node name → provider
	byEP  map[string]*ProviderNodes
}

func (pt *placeTally) add(node, provider string, dur, flops int64, known bool) {
	n := pt.byEP[provider]
	if n == nil {
		n = &ProviderNodes{Provider: provider}
		pt.byEP[provider] = n
	}
	n.Micros += dur
	_, seen := pt.nodes[node]
	if !seen {
		pt.nodes[node] = provider
		n.Nodes++
	}
	if known {
		n.FLOPs = satAdd(n.FLOPs, flops)
		return
	}
	n.UnknownMicros += dur
	if !seen {
		n.UnknownNodes++
	}
}

// satAdd adds without overflow: a hostile file's shapes can be huge.
func satAdd(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

func (pt *placeTally) list() []ProviderNodes {
	var out []ProviderNodes
	for _, n := range pt.byEP {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Nodes > b.Nodes || (a.Nodes == b.Nodes && a.Provider < b.Provider)
	})
	return out
}

// Nodes is the number of distinct nodes the profile saw run.
func (p Profile) Nodes() int {
	n := 0
	for _, e := range p.Placement {
		n += e.Nodes
	}
	return n
}

// schedStats is a node event's thread_scheduling_stats (ORT's
// onnxruntime/core/common/threadpool.cc, ThreadPoolProfiler): times in µs;
// num_run counts a thread's tasks since the session started.
type schedStats struct {
	Main struct {
		BlockSize    []int64 `json:"block_size"`
		Distribution int64   `json:"Distribution"`
		Enqueue      int64   `json:"DistributionEnqueue"`
		Run          int64   `json:"Run"`
		Wait         int64   `json:"Wait"`
		WaitRevoke   int64   `json:"WaitRevoke"`
	} `json:"main_thread"`
	Sub map[string]struct {
		NumRun int `json:"num_run"`
	} `json:"sub_threads"`
}

// threadTally sums the scheduling figures, turning each other thread's
// running task count into the tasks it ran per call.
type threadTally struct {
	t    ThreadStats
	seen bool
	ops  map[string]*OpThreads
	runs map[string]int
}

func (tt *threadTally) add(op string, dur int64, s *schedStats) {
	tt.seen = true
	tt.t.Threads = max(tt.t.Threads, 1+len(s.Sub))
	tt.t.KernelMicros += dur
	tasks := 0
	for id, sub := range s.Sub {
		if d := sub.NumRun - tt.runs[id]; d > 0 {
			tasks += d
		}
		tt.runs[id] = max(tt.runs[id], sub.NumRun)
	}
	m := s.Main
	if len(m.BlockSize) == 0 && m.Run == 0 && m.Wait == 0 && m.Distribution == 0 {
		tt.t.SerialMicros += dur
		return
	}
	dist := m.Distribution + m.Enqueue
	wait := m.Wait + m.WaitRevoke
	tt.t.DistributionMicros += dist
	tt.t.RunMicros += m.Run
	tt.t.WaitMicros += wait
	tt.t.ParallelCalls++
	tt.t.OtherTasks += tasks
	o := tt.ops[op]
	if o == nil {
		o = &OpThreads{Op: op}
		tt.ops[op] = o
	}
	o.KernelMicros += dur
	o.DistributionMicros += dist
	o.RunMicros += m.Run
	o.WaitMicros += wait
	o.ParallelCalls++
	o.OtherTasks += tasks
}

func (tt *threadTally) stats() *ThreadStats {
	if !tt.seen {
		return nil
	}
	for _, o := range tt.ops {
		tt.t.Ops = append(tt.t.Ops, *o)
	}
	sort.Slice(tt.t.Ops, func(i, j int) bool {
		a, b := tt.t.Ops[i], tt.t.Ops[j]
		return a.KernelMicros > b.KernelMicros || (a.KernelMicros == b.KernelMicros && a.Op < b.Op)
	})
	return &tt.t
}

// ThreadLine is the thread pool's use in one line, on the operator type
// that split the most kernel time: "FusedGemm (2 threads, 96% of the
// kernel time): the calling thread computed 49% of it, waited 27% for the
// other thread and spent 20% handing out work; the other thread ran 1.4
// tasks a call; kernels that handed the pool no work: 1% of the time".
// Empty without thread figures.
func (p Profile) ThreadLine() string {
	t := p.Threads
	if t == nil || len(t.Ops) == 0 {
		return ""
	}
	o := t.Ops[0]
	if o.KernelMicros <= 0 {
		return ""
	}
	pct := func(v int64) float64 { return 100 * float64(v) / float64(o.KernelMicros) }
	others := "the other thread"
	if t.Threads > 2 {
		others = fmt.Sprintf("the other %d threads", t.Threads-1)
	}
	share := 0.0
	if p.KernelMicros > 0 {
		share = 100 * float64(o.KernelMicros) / float64(p.KernelMicros)
	}
	line := fmt.Sprintf("%s (%d threads, %.0f%% of the kernel time): the calling thread computed %.0f%% of it, waited %.0f%% for %s and spent %.0f%% handing out work",
		o.Op, t.Threads, share, pct(o.RunMicros), pct(o.WaitMicros), others, pct(o.DistributionMicros))
	if o.ParallelCalls > 0 {
		line += fmt.Sprintf("; %s ran %.1f tasks a call", others, float64(o.OtherTasks)/float64(o.ParallelCalls))
	}
	if p.KernelMicros > 0 {
		line += fmt.Sprintf("; kernels that handed the pool no work: %.0f%% of the time", 100*float64(t.SerialMicros)/float64(p.KernelMicros))
	}
	return line
}
