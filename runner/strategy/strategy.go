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
	"sort"
	"strings"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// Params are one cell's resolved strategy parameters.
type Params struct {
	Workers        int
	Threads        int // intra-op threads per session
	InterOpThreads int
	BatchSize      int
	QueueDepth     int
	Spinning       bool
	Transport      string // processes: "copy" | "shared"
	Start          string // processes: "per-run" | "warm"
	StartMethod    string // py-pool, py-executor: "fork" | "forkserver" | "spawn"
	Data           string // py-pool, py-executor: "pickle" | "shared_memory"
	// NoORT marks a workload without ORT sessions (the heavy task), so
	// descriptions leave sessions and threads out.
	NoORT bool
	// ThreadsResolved records that Threads was 0 ("one per physical core")
	// and has been replaced by the physical core count.
	ThreadsResolved bool
}

// CoresWanted is how many threads the cell keeps busy at most.
func (p Params) CoresWanted() int {
	w := max(p.Workers, 1)
	t := max(p.Threads, 1)
	if p.InterOpThreads > 1 {
		t *= p.InterOpThreads
	}
	return w * t
}

// Job is what a strategy runs: the workload, the batch size and the base
// session options (the config's session block) it adapts per session.
type Job struct {
	Workload workload.Workload
	Params   Params
	Options  onnx.Options
	// Command runs a worker process (the processes strategy); nil in-process.
	Command []string
}

// Batches is the number of batches a full pass has.
func (j *Job) Batches() int { return workload.Batches(j.Workload.Rows(), j.Params.BatchSize) }

// sessionOptions is the base options with this cell's thread settings.
func (j *Job) sessionOptions(intra, inter int, parallel bool) onnx.Options {
	o := j.Options
	o.IntraOpThreads = intra
	o.InterOpThreads = max(inter, 1)
	o.Parallel = parallel
	o.Spinning = j.Params.Spinning
	return o
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

// Definition describes a strategy before anything runs.
type Definition struct {
	Name    string
	Summary string
	// Keys are the sweep keys the strategy accepts besides batch_sizes.
	Keys []string
	// NeedsORT: false means the strategy also runs the heavy task.
	NeedsORT bool
	// Defaults fills unset parameters.
	Defaults func(*Params)
	// Validate checks a resolved cell.
	Validate func(Params) error
	// Describe is the one line `validate` prints.
	Describe func(Params) string
	New      func() Strategy
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

// oneThreadUnlessSet defaults a session to one intra-op thread, unless the
// config asked for 0 (resolved to the physical cores).
func oneThreadUnlessSet(p *Params) {
	if p.Threads == 0 && !p.ThreadsResolved {
		p.Threads = 1
	}
}

// workersAndThreads validates the two counts most strategies take.
func workersAndThreads(p Params) error {
	return errors.Join(atLeast("workers", p.Workers, 1), atLeast("threads", p.Threads, 1))
}

// atLeast returns a validation error when v < lo.
func atLeast(key string, v, lo int) error {
	if v < lo {
		return fmt.Errorf("%s must be ≥ %d, got %d", key, lo, v)
	}
	return nil
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
func sessionWord(p Params, session string) string {
	if p.NoORT {
		return ""
	}
	return " × " + session + " × " + threadsWord(p) + spinWord(p)
}

func threadsWord(p Params) string {
	s := fmt.Sprintf("%d intra-op thread", p.Threads)
	if p.Threads != 1 {
		s += "s"
	}
	if p.ThreadsResolved {
		s += " (0 = one per physical core)"
	}
	return s
}

func spinWord(p Params) string {
	if p.Spinning {
		return ", spinning"
	}
	return ""
}
