package tune

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/runner/config"
)

// WinnerConfig is the recommended point as an ortbench experiment: the
// tune's config (workload, session options, measurement settings) with the
// one strategy entry, re-runnable as is with `ortbench run -c`.
func WinnerConfig(c *config.Config, rec Recommendation, res *Result) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(c.Resolved, &doc); err != nil {
		return nil, err
	}
	out, _ := doc["output"].(map[string]any)
	dir, _ := out["dir"].(string)
	data, err := PointsConfig(c, c.Name+"-tuned", []Point{rec.Point}, "", nil)
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
	head := fmt.Sprintf("# ortbench tune's recommendation for %s (%s): %s\n# measured %s rows/s, p99 %s; searched %d of %d points.\n# Re-run it with: ortbench run -c THIS_FILE\n",
		c.Name, rec.Objective, rec.Point, FormatRate(rec.RowsPerSecond), FormatSeconds(rec.P99), res.Visited, res.Grid)
	return append([]byte(head), data...), nil
}

// SessionSnippet is the recommended point as Go code over onnxruntime_go:
// the session options ortbench's session package sets for it, and how many
// sessions and goroutines to run at what batch. It compiles on its own
// (package tuned) against github.com/yalue/onnxruntime_go.
func SessionSnippet(c *config.Config, rec Recommendation) ([]byte, error) {
	p := rec.Point
	sessions, goroutines := p.Workers, p.Workers
	switch p.Strategy {
	case "goroutines":
		sessions = 1
	case "intra-op", "sequential":
		sessions, goroutines = 1, 1
	}
	level := map[string]string{"disabled": "GraphOptimizationLevelDisableAll", "basic": "GraphOptimizationLevelEnableBasic",
		"extended": "GraphOptimizationLevelEnableExtended", "all": "GraphOptimizationLevelEnableAll", "": "GraphOptimizationLevelEnableAll"}[c.Session.GraphOptimization]
	var affinity []string
	if p.Affinity && p.Threads > 1 {
		// One string per session: its pool's threads on the CPUs after
		// the session's caller thread (ORT's 1-based logical processors).
		for s := range sessions {
			var cpus []string
			for i := 1; i < p.Threads; i++ {
				cpus = append(cpus, fmt.Sprint(s*p.Threads+i+1))
			}
			affinity = append(affinity, strings.Join(cpus, ";"))
		}
	}
	var b bytes.Buffer
	err := snippet.Execute(&b, map[string]any{
		"Name": c.Name, "Point": p.String(), "Objective": rec.Objective, "Rate": FormatRate(rec.RowsPerSecond), "P99": FormatSeconds(rec.P99),
		"Strategy": p.Strategy, "Sessions": sessions, "Goroutines": goroutines, "Batch": p.Batch, "Threads": p.Threads,
		"Spinning": boolDigit(p.Spinning), "Level": level, "Arena": c.Session.MemoryArena, "Pattern": c.Session.MemoryPattern,
		"Affinity": affinity, "Pinned": p.Affinity,
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
// {{.Name}} ({{.Objective}}): {{.Point}} — measured {{.Rate}} rows/s, p99 {{.P99}}.
//
// Run {{.Sessions}} session(s) created with these options, driven by
// {{.Goroutines}} goroutine(s){{if eq .Strategy "goroutines"}} sharing the one session (Run is safe to call concurrently){{else if gt .Sessions 1}}, each with its own session{{end}},
// {{.Batch}} rows per Run call.{{if .Pinned}} ortbench also pinned each worker's
// goroutine (runtime.LockOSThread + sched_setaffinity) to its own CPU.{{end}}
package tuned

import ort "github.com/yalue/onnxruntime_go"

// Sessions is how many sessions to create, Goroutines how many goroutines
// call Run, BatchSize the rows per call.
const (
	Sessions   = {{.Sessions}}
	Goroutines = {{.Goroutines}}
	BatchSize  = {{.Batch}}
)

// NewSessionOptions returns the options for session i (0-based); the
// caller destroys them after creating the session.
func NewSessionOptions(i int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	steps := []func() error{
		func() error { return so.SetIntraOpNumThreads({{.Threads}}) },
		func() error { return so.SetInterOpNumThreads(1) },
		func() error { return so.SetExecutionMode(ort.ExecutionModeSequential) },
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
