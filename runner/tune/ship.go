package tune

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
)

// Origin is what a tune's files take from its config and space beyond
// the search. tune.json keeps it (State.Origin), so `ortbench report`
// makes the files again from tune.json alone: no config, no machine.
type Origin struct {
	Name string `json:"name"`
	// Resolved is the config as resolved (YAML); a winner config is it
	// with the one strategy entry.
	Resolved string `json:"resolved_config"`
	// BatchKey is the space's batch key ("": none, under server load);
	// NoORT its search option (the workload runs no ORT session).
	BatchKey string `json:"batch_key,omitempty"`
	NoORT    bool   `json:"no_ort,omitempty"`
	// What the Go snippet states: the session options and, under server
	// load, the rows of a request and the SLO.
	GraphOptimization string  `json:"graph_optimization"`
	MemoryArena       bool    `json:"memory_arena"`
	MemoryPattern     bool    `json:"memory_pattern"`
	Server            bool    `json:"server,omitempty"`
	RequestRows       int     `json:"request_rows,omitempty"`
	SLOPercentile     float64 `json:"slo_percentile,omitempty"`
	SLOLatency        string  `json:"slo_latency,omitempty"`
}

// NewOrigin is what c and sp give a tune's files.
func NewOrigin(c *config.Config, sp *Space) *Origin {
	o := &Origin{Name: c.Name, Resolved: string(c.Resolved), BatchKey: sp.batchKey(), NoORT: sp.Options.NoORT,
		GraphOptimization: c.Session.GraphOptimization, MemoryArena: c.Session.MemoryArena, MemoryPattern: c.Session.MemoryPattern}
	if c.Load.Server() {
		o.Server, o.RequestRows = true, c.Load.RequestRows
		o.SLOPercentile, o.SLOLatency = c.Load.SLO.Percentile, c.Load.SLO.Latency.String()
	}
	return o
}

// WinnerConfig is the recommended point as an ortbench experiment: the
// tune's config (workload, session options, measurement settings) with the
// one strategy entry, re-runnable as is with `ortbench run -c`.
func WinnerConfig(o *Origin, rec Recommendation, res *Result) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(o.Resolved), &doc); err != nil {
		return nil, err
	}
	out, _ := doc["output"].(map[string]any)
	dir, _ := out["dir"].(string)
	data, err := pointsConfig([]byte(o.Resolved), o.BatchKey, o.Name+"-tuned", []Point{rec.Point}, "", nil)
	if err != nil {
		return nil, err
	}
	// Keep the config's own output folder.
	doc = nil
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if o, ok := doc["output"].(map[string]any); ok && dir != "" {
		o["dir"] = dir
	}
	data, err = yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	measured := fmt.Sprintf("measured %s rows/s, p99 %s", results.Num(rec.RowsPerSecond), results.Dur(rec.P99))
	if res.Server {
		measured = fmt.Sprintf("served open-loop: at most %s req/s within %s, p99 %s at the fixed load", results.Num(rec.MaxQPS), res.SLO, results.Dur(rec.P99))
	}
	head := fmt.Sprintf("# ortbench tune's recommendation for %s (%s): %s\n# %s; searched %d of %d points.\n# Re-run it with: ortbench run -c THIS_FILE\n",
		o.Name, rec.Objective, rec.Point, measured, res.Visited, res.Grid)
	return append([]byte(head), data...), nil
}

// SessionSnippet is the recommended point as Go code over onnxruntime_go:
// the session options ortbench's session package sets for it, and how many
// sessions and goroutines to run at what batch. It compiles on its own
// (package tuned) against github.com/yalue/onnxruntime_go.
func SessionSnippet(reg strategy.Registry, o *Origin, rec Recommendation) ([]byte, error) {
	p := rec.Point
	_, cfg, err := NewPoint(reg, p.Strategy, p.Values(), strategy.SearchOptions{NoORT: o.NoORT})
	if err != nil {
		return nil, err
	}
	// How the point runs: its sessions and threads (Resources, Shape), and
	// under server load its serving side's goroutines and batch bound.
	sh := cfg.Shape()
	sessions, goroutines, threads := strategy.ResourcesOf(cfg).Sessions, max(sh.Workers, 1), max(sh.Threads, 1)
	maxBatch, maxDelay := 0, time.Duration(0)
	if sv, ok := strategy.ServingOf(cfg); ok {
		goroutines = max(sv.Servers, 1)
		if sv.MaxBatch > 1 {
			maxBatch, maxDelay = sv.MaxBatch, sv.MaxDelay
		}
	}
	level := map[string]string{"disabled": "GraphOptimizationLevelDisableAll", "basic": "GraphOptimizationLevelEnableBasic",
		"extended": "GraphOptimizationLevelEnableExtended", "all": "GraphOptimizationLevelEnableAll", "": "GraphOptimizationLevelEnableAll"}[o.GraphOptimization]
	pinned := strategy.Pinned(cfg)
	var affinity []string
	if pinned && threads > 1 {
		// One string per session: its pool's threads on the CPUs after
		// the session's caller thread (ORT's 1-based logical processors).
		for s := range sessions {
			var cpus []string
			for i := 1; i < threads; i++ {
				cpus = append(cpus, fmt.Sprint(s*threads+i+1))
			}
			affinity = append(affinity, strings.Join(cpus, ";"))
		}
	}
	batch, measured := p.Batch, fmt.Sprintf("measured %s rows/s, p99 %s", results.Num(rec.RowsPerSecond), results.Dur(rec.P99))
	if o.Server {
		// Requests of load.request_rows rows each, as they arrive.
		batch = max(o.RequestRows, 1)
		measured = fmt.Sprintf("served open-loop: at most %s req/s within p%g ≤ %s", results.Num(rec.MaxQPS), o.SLOPercentile, o.SLOLatency)
	}
	interOp, mode := max(sh.InterOp, 1), "ExecutionModeSequential"
	if sh.Parallel {
		mode = "ExecutionModeParallel"
	}
	var b bytes.Buffer
	err = snippet.Execute(&b, map[string]any{
		"Name": o.Name, "Point": p.String(), "Objective": rec.Objective, "Measured": measured, "Server": o.Server,
		"MaxBatch": maxBatch, "MaxDelay": int64(maxDelay / time.Microsecond), "InterOp": interOp, "Mode": mode,
		"Shared": sessions == 1 && goroutines > 1, "Sessions": sessions, "Goroutines": goroutines, "Batch": batch, "Threads": threads,
		"Spinning": boolDigit(p.Spinning), "Level": level, "Arena": o.MemoryArena, "Pattern": o.MemoryPattern,
		"Affinity": affinity, "Pinned": pinned,
	})
	if err != nil {
		return nil, err
	}
	return format.Source(b.Bytes())
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

var snippet = template.Must(template.New("snippet").Parse(`// Package tuned holds the session options ortbench tune recommends for
// {{.Name}} ({{.Objective}}): {{.Point}} — {{.Measured}}.
//
// Run {{.Sessions}} session(s) created with these options, driven by
// {{.Goroutines}} goroutine(s){{if .Shared}} sharing the one session (Run is safe to call concurrently){{else if gt .Sessions 1}}, each with its own session{{end}},
{{- if .MaxBatch}}
// each taking the queued requests as one batch: at most MaxBatch requests
// of {{.Batch}} row(s), waiting at most MaxDelay for more once one is queued
// (a dynamic batcher; ortbench's is runner/strategy/batcher.go).
{{- else if .Server}}
// each request ({{.Batch}} row(s)) one Run call as it arrives.
{{- else}}
// {{.Batch}} rows per Run call.
{{- end}}{{if .Pinned}} ortbench also pinned each worker's
// goroutine (runtime.LockOSThread + sched_setaffinity) to its own CPU.{{end}}
package tuned

import {{if .MaxBatch}}(
	"time"

	ort "github.com/yalue/onnxruntime_go"
){{else}}ort "github.com/yalue/onnxruntime_go"{{end}}

// Sessions is how many sessions to create, Goroutines how many goroutines
// call Run, BatchSize the rows {{if .Server}}of a request{{else}}per call{{end}}.
const (
	Sessions   = {{.Sessions}}
	Goroutines = {{.Goroutines}}
	BatchSize  = {{.Batch}}
)
{{if .MaxBatch}}
// MaxBatch is the most requests one Run call serves, MaxDelay how long a
// queued request waits for others to join it.
const (
	MaxBatch = {{.MaxBatch}}
	MaxDelay = {{.MaxDelay}} * time.Microsecond
)
{{end}}
// NewSessionOptions returns the options for session i (0-based); the
// caller destroys them after creating the session.
func NewSessionOptions(i int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	steps := []func() error{
		func() error { return so.SetIntraOpNumThreads({{.Threads}}) },
		func() error { return so.SetInterOpNumThreads({{.InterOp}}) },
		func() error { return so.SetExecutionMode(ort.{{.Mode}}) },
		func() error { return so.SetGraphOptimizationLevel(ort.{{.Level}}) },
		func() error { return so.SetCpuMemArena({{.Arena}}) },
		func() error { return so.SetMemPattern({{.Pattern}}) },
		func() error { return so.AddSessionConfigEntry("session.intra_op.allow_spinning", "{{.Spinning}}") },
		func() error { return so.AddSessionConfigEntry("session.inter_op.allow_spinning", "{{.Spinning}}") },{{if .Affinity}}
		func() error {
			affinity := []string{ {{- range .Affinity}}"{{.}}", {{end -}} }
			return so.AddSessionConfigEntry("session.intra_op_thread_affinities", affinity[i%len(affinity)])
		},{{end}}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			so.Destroy()
			return nil, err
		}
	}
	return so, nil
}
`))
