package strategy

import (
	"fmt"
	"github.com/ortbench/ortbench/runner/workload"
	"sort"
	"time"
)

// batcherConfig is the dynamic batcher (Triton's semantics): requests
// queue; a batch of at most MaxBatch requests goes to the next free one of
// Workers sessions at once when full, else after waiting at most MaxDelay
// for more while the queue is non-empty. It only serves requests (load:
// server); runner/serve runs it.
type batcherConfig struct {
	Workers  int           `key:"workers" search:"cores" rank:"4"`
	Threads  int           `key:"threads" ort:"true" auto:"cores" search:"physical" rank:"3"`
	MaxBatch int           `key:"max_batch" search:"4,16,64" rank:"4.5"`
	MaxDelay time.Duration `key:"max_delay" search:"slo/20,slo/5" rank:"1.5"`
	Base
}

// MaxBatchRequests bounds max_batch.
const MaxBatchRequests = 4096

func (c *batcherConfig) Serving() Serving {
	return Serving{Servers: c.Workers, MaxBatch: c.MaxBatch, MaxDelay: c.MaxDelay, ServerOnly: true}
}

// Tune tries it under server load, batching requests first (what batch
// size is offline); batches of one request never wait.
func (c *batcherConfig) Tuned() Tuning { return Tuning{Order: 5, Rank: 5} }
func (c *batcherConfig) Canon() (string, map[string]any) {
	if c.MaxBatch == 1 {
		c.MaxDelay = 0
	}
	return "", nil
}

func (c *batcherConfig) Validate() []error {
	var delay error
	if c.MaxDelay < 0 {
		delay = keyErr("max_delay", "must be ≥ 0, got %s", c.MaxDelay)
	} else if c.MaxDelay > time.Minute {
		delay = keyErr("max_delay", "must be at most 1m, got %s", c.MaxDelay)
	}
	var batch error
	if c.MaxBatch > MaxBatchRequests {
		batch = keyErr("max_batch", "must be at most %d, got %d", MaxBatchRequests, c.MaxBatch)
	}
	return collect(atLeast("workers", c.Workers, 1), atLeast("threads", c.Threads, 1), atLeast("max_batch", c.MaxBatch, 1), batch, delay)
}

// Resources: a session per worker.
func (c *batcherConfig) Resources() Resources { return Resources{Sessions: c.Workers} }

func (c *batcherConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: c.Threads} }
func (c *batcherConfig) Describe() string {
	return fmt.Sprintf("batcher: batches of ≤ %d requests, waiting ≤ %s, on %s%s", c.MaxBatch, c.MaxDelay,
		plural(c.Workers, "worker"), sessionWord(&c.Base, c.Threads, "own session"))
}

func batcherDef() Definition {
	return Definition{
		Name:      "batcher",
		Summary:   "dynamic batcher (server load only): batches of ≤ max_batch requests, waiting ≤ max_delay, on W sessions",
		Baseline:  "sequential",
		NewConfig: func() Config { return &batcherConfig{Workers: 1, Threads: 1, MaxBatch: 8, MaxDelay: time.Millisecond} },
		// Offline, batches are formed before the run (batch_sizes): the
		// batcher would be hybrid under another name, so configs refuse it
		// there (config/load_section.go); driven directly it runs as one.
		New: func() Strategy { return &workerPool{} },
	}
}

// Serving is how a cell serves requests under server load (runner/serve
// runs it): Servers goroutines each call ServeRows on their own server of
// the started strategy (RowServer), with batches of at most MaxBatch
// requests (1: every request alone) formed within MaxDelay. The sessions
// are the strategy's own, opened by its Start as for a pass.
type Serving struct {
	Servers  int
	MaxBatch int
	MaxDelay time.Duration
	// ServerOnly: the strategy has no offline side.
	ServerOnly bool
}

// RowServer is a started strategy whose servers (0..Serving.Servers−1)
// serve rows on request: every strategy with a serving side implements it,
// on the sessions (or worker processes) its Start opened. ServeRows must
// be safe for concurrent calls with different servers.
type RowServer interface {
	Strategy
	ServeRows(server, first, n int, out *workload.Outputs) error
}

// ServingOf is a cell's serving side (its config's Serving method, in the
// strategy's own file), or false when its strategy has none yet (pipeline,
// the py-* runners).
//
// Note: the serving side is one engine (runner/serve) driving each
// strategy's RowServer, rather than a Serve method on every strategy: the
// strategies differ under load only in how many servers they start and
// whether requests are batched, and one engine keeps the open-loop clock,
// the queue and the recorders the same for all of them.
func ServingOf(cfg Config) (Serving, bool) {
	if sv, ok := cfg.(server); ok {
		return sv.Serving(), true
	}
	return Serving{}, false
}

// server is implemented, in its own file, by every strategy config with a
// serving side.
type server interface {
	Serving() Serving
}

// Serves reports whether the named strategy has a serving side.
func (r Registry) Serves(name string) bool {
	d, ok := r[name]
	if !ok {
		return false
	}
	_, ok = ServingOf(d.NewConfig())
	return ok
}

// ServerOnly reports whether the named strategy runs under server load only.
func (r Registry) ServerOnly(name string) bool {
	d, ok := r[name]
	if !ok {
		return false
	}
	s, _ := ServingOf(d.NewConfig())
	return s.ServerOnly
}

// Servers lists the strategies with a serving side, sorted.
func (r Registry) Servers() []string {
	var names []string
	for n := range r {
		if r.Serves(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
