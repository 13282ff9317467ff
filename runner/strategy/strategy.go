// Package strategy holds the ways ortbench runs a workload concurrently. Each
// strategy is one file: a Definition (its config keys, defaults, validation,
// one-line description) and a Strategy (Start once, then Pass over the
// batches as many times as the runner asks).
//
// Strategies only emit: each goroutine owns its executor and its latency
// recorder, writes outputs at rows no other goroutine touches, and marks its
// batches done; the runner aggregates after the pass. The hot loop takes no
// lock and makes no allocation.
package strategy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// Job is what a strategy runs: the workload, the batch size and the base
// session options (the config's session block) it adapts per session.
type Job struct {
	Workload workload.Workload
	Config   Config
	Options  onnx.Options
	// Command runs a worker process (the processes strategy); nil in-process.
	Command []string
	// RowCounts, when set, are the call sizes (rows) the executors prepare
	// for instead of a pass's batches: under server load, 1..max_batch
	// requests of request_rows rows (runner/serve).
	RowCounts []int
}

// Batches is the number of batches a full pass has.
func (j *Job) Batches() int { return workload.Batches(j.Workload.Rows(), j.BatchSize()) }

// BatchSize is the rows per inference call.
func (j *Job) BatchSize() int { return j.Config.Common().BatchSize }

// Shape is the cell's concurrency.
func (j *Job) Shape() Shape { return j.Config.Shape() }

// sessionOptions is the base options with this cell's thread settings.
func (j *Job) sessionOptions(intra, inter int, parallel bool) onnx.Options {
	o := j.Options
	o.IntraOpThreads = intra
	o.InterOpThreads = max(inter, 1)
	o.Parallel = parallel
	o.Spinning = j.Config.Common().Spinning
	// -1 (ORTDefaultThreads): ORT picks; the config holds what it will pick.
	for _, k := range j.Config.Common().Facts.ORTDefault {
		switch k {
		case "threads":
			o.IntraOpThreads = 0
		case "inter_op_threads":
			o.InterOpThreads = 0
		}
	}
	return o
}

// pinned reports whether the cell pins its workers (affinity: true).
func (j *Job) pinned() bool {
	p, ok := j.Config.(interface{ pinned() bool })
	return ok && p.pinned()
}

// Strategy runs a job. Start creates sessions and workers (start-up, timed
// apart); Pass processes batches 0..n-1 once, writing outputs into out and
// latencies into recs (sized by Recorders()); Close releases everything.
// A Strategy is used by one goroutine (the runner's) at a time.
type Strategy interface {
	Start(ctx context.Context, job *Job) error
	Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error
	// Recorders is how many latency recorders Pass needs.
	Recorders() int
	Close() error
}

// Optional capabilities a Strategy may have; the runner asks for them by
// interface, never by strategy name.

// ProcessTree is implemented by strategies whose work runs in other
// processes; the sampler then accounts for all of them.
type ProcessTree interface {
	PIDs() []int
}

// TreeCPU is implemented by process strategies whose workers may exit
// inside a pass (their CPU then comes from the kernel's rusage at exit); it
// replaces summing /proc over PIDs().
type TreeCPU interface {
	TreeCPU() metrics.CPUTimes
}

// Reporter is implemented by strategies with figures of their own; they
// are added to the cell's extra figures.
type Reporter interface {
	Report() map[string]any
}

// Definition describes a strategy before anything runs: its name, what it
// needs, its typed config (keys, defaults, validation, description live on
// the config type in the strategy's own file) and its constructor.
type Definition struct {
	Name    string
	Summary string
	// NeedsORT: false means the strategy also runs the heavy task.
	NeedsORT bool
	// Baseline names the strategy this one's speedup is measured against at
	// the same batch size ("" for a baseline itself).
	Baseline string
	// NewConfig returns a config holding the strategy's defaults.
	NewConfig func() Config
	New       func() Strategy
}

// IsBaseline reports whether other strategies measure speedup against this one.
func (r Registry) IsBaseline(name string) bool {
	for _, d := range r {
		if d.Baseline == name {
			return true
		}
	}
	return false
}

// ErrSkip marks a start-up failure that is the environment's, not the
// cell's (the Python environment is missing): Start wraps it, and the runner
// reports the cell as skipped, with the reason, instead of failed.
var ErrSkip = errors.New("skipped")

// Registry maps config names to definitions. Built in one place (Default)
// and passed in, never a global.
type Registry map[string]Definition

// Lookup finds a strategy or lists the valid names.
func (r Registry) Lookup(name string) (Definition, error) {
	d, ok := r[name]
	if !ok {
		return Definition{}, fmt.Errorf("unknown strategy %q (valid: %s)", name, strings.Join(r.Names(), ", "))
	}
	return d, nil
}

// Names lists the registered strategies, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Default is ortbench's registry: one line per strategy.
func Default() Registry {
	r := Registry{}
	for _, d := range []Definition{
		sequentialDef(),
		goroutinesDef(),
		workerPoolDef(),
		hybridDef(),
		pipelineDef(),
		intraOpDef(),
		interOpDef(),
		processesDef(),
		batcherDef(),
		pySequentialDef(),
		pyThreadsDef(),
		pyAsyncioDef(),
		pyPoolDef(),
		pyExecutorDef(),
		pyIntraOpDef(),
	} {
		r[d.Name] = d
	}
	return r
}

// plural is "1 goroutine", "2 goroutines".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// sessionWord is " × <session> × T intra-op threads", or nothing when the
// workload runs no ORT session (the heavy task).
func sessionWord(b *Base, threads int, session string) string {
	if b.Facts.NoORT {
		return ""
	}
	return " × " + session + " × " + threadsWord(b, threads) + spinWord(b)
}

func threadsWord(b *Base, threads int) string {
	s := fmt.Sprintf("%d intra-op thread", threads)
	if threads != 1 {
		s += "s"
	}
	if b.Facts.AutoResolved("threads") {
		s += " (0 = one per usable physical core)"
	}
	if slices.Contains(b.Facts.ORTDefault, "threads") {
		s += " (-1 = ORT's default, sized from the host)"
	}
	return s
}

func spinWord(b *Base) string {
	if b.Spinning && !b.Facts.NoORT {
		return ", spinning"
	}
	return ""
}
