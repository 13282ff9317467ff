package strategy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// pipeline is reader → N inference workers → collector, joined by bounded
// queues so a slow stage holds the others back (back-pressure) instead of
// growing memory. With `source: file` (the default) the reader streams and
// decodes the dataset file itself each pass, so the strategy measures I/O
// and decoding overlapped with inference; with `source: memory` it reads
// the in-memory table every other strategy reads, so it measures the
// pipeline's own hand-offs.
type pipeline struct {
	job  *Job
	cfg  *pipelineConfig
	p    *pool
	bufs [][]byte
	// wins are the buffers' output windows when the workload is streamed
	// (streaming.go): outputs then go to the collector a batch at a time.
	wins []*workload.Outputs
}

type pipeTask struct {
	batch, start int
	slot         int // the buffer (and window) it came in
	in           []byte
}

type pipeDone struct {
	batch, start, rows int
	slot               int
	took               time.Duration
}

func (pl *pipeline) Start(_ context.Context, job *Job) error {
	cfg := job.Config.(*pipelineConfig)
	opts := job.sessionOptions(cfg.Threads, 1, false)
	p, err := openPool(job, cfg.Workers, 1, opts)
	if err != nil {
		return err
	}
	pl.job, pl.cfg, pl.p = job, cfg, p
	// Enough buffers for every queue slot, every worker and the reader.
	size := cfg.BatchSize * job.Workload.RecordBytes()
	for range 2*cfg.QueueDepth + cfg.Workers + 1 {
		pl.bufs = append(pl.bufs, make([]byte, size))
		if workload.Streams(job.Workload) {
			pl.wins = append(pl.wins, workload.NewOutputs(job.Workload.Layout(), cfg.BatchSize, cfg.BatchSize))
		}
	}
	return nil
}

func (pl *pipeline) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	src, err := pl.open()
	if err != nil {
		return err
	}
	defer src.Close()

	width := pl.job.Workload.RecordBytes()
	stream := pl.wins != nil
	if stream && !out.Streaming() {
		return fmt.Errorf("a streamed workload needs a streaming output store (workload.NewStreamOutputs)")
	}
	free := make(chan int, len(pl.bufs))
	for i := range pl.bufs {
		free <- i
	}
	tasks := make(chan pipeTask, pl.cfg.QueueDepth)
	done := make(chan pipeDone, pl.cfg.QueueDepth)
	eg, ctx := errgroup.WithContext(ctx)

	eg.Go(func() error { return pl.read(ctx, src, n, free, tasks) })

	var workers sync.WaitGroup
	for w, x := range pl.p.execs {
		workers.Add(1)
		eg.Go(func() error {
			defer workers.Done()
			if pl.job.pinned() {
				if err := pinThread(pl.job.layout().CPU(w, 0, pl.cfg.Threads)); err != nil {
					return err
				}
			}
			for t := range tasks {
				t0 := time.Now()
				var err error
				if stream {
					err = x.Run(t.in, 0, pl.wins[t.slot])
				} else {
					err = x.Run(t.in, t.start, out)
				}
				if err != nil {
					return fmt.Errorf("worker %d: batch %d: %w", w, t.batch, err)
				}
				select {
				case done <- pipeDone{batch: t.batch, start: t.start, rows: len(t.in) / width, slot: t.slot, took: time.Since(t0)}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}
	go func() { workers.Wait(); close(done) }()

	eg.Go(func() error { // collector: the only goroutine that records (and, streamed, checks)
		rec := recs.Get(0)
		for d := range done {
			rec.Record(d.took)
			if stream {
				out.Deliver(d.batch, d.start, d.rows, pl.wins[d.slot])
			} else {
				out.Done(d.batch)
			}
			free <- d.slot
		}
		return nil
	})
	return eg.Wait()
}

// read is the reader stage: each batch into a free buffer, then queued.
func (pl *pipeline) read(ctx context.Context, src workload.Source, n int, free <-chan int, tasks chan<- pipeTask) error {
	defer close(tasks)
	bs, rows, width := pl.cfg.BatchSize, pl.job.Workload.Rows(), pl.job.Workload.RecordBytes()
	for i := range n {
		var slot int
		select {
		case slot = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		start, k := workload.Span(i, bs, rows)
		in := pl.bufs[slot][:k*width]
		if err := readFull(src, in); err != nil {
			return fmt.Errorf("reader: batch %d (rows %d..%d): %w", i, start, start+k-1, err)
		}
		select {
		case tasks <- pipeTask{batch: i, start: start, slot: slot, in: in}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// open starts one pass's reader on the configured source.
func (pl *pipeline) open() (workload.Source, error) {
	if pl.cfg.Source == SourceMemory {
		return workload.MemorySource(pl.job.Workload), nil
	}
	return pl.job.Workload.OpenSource()
}

// readFull fills dst with whole rows from src.
func readFull(src workload.Source, dst []byte) error {
	for len(dst) > 0 {
		k, err := src.Read(dst)
		dst = dst[k:]
		if err != nil {
			if errors.Is(err, io.EOF) && len(dst) > 0 {
				return io.ErrUnexpectedEOF
			}
			if !errors.Is(err, io.EOF) {
				return err
			}
			return nil
		}
		if k == 0 {
			return io.ErrNoProgress
		}
	}
	return nil
}

func (pl *pipeline) Recorders() int { return 1 }
func (pl *pipeline) Close() error   { return pl.p.close() }

// Sources of the pipeline's reader stage.
const (
	SourceFile   = "file"   // stream and decode the dataset file each pass
	SourceMemory = "memory" // read the in-memory table
)

// pipelineConfig: reader → N workers → collector. QueueDepth −1 (the
// default) is two slots per worker.
type pipelineConfig struct {
	Workers    int    `key:"workers" auto:"cores"`
	Threads    int    `key:"threads" ort:"true" auto:"cores"`
	QueueDepth int    `key:"queue_depth"`
	Source     string `key:"source"`
	Pinning
	Base
}

func (c *pipelineConfig) Resolve() {
	if c.QueueDepth == -1 {
		c.QueueDepth = 2 * max(c.Workers, 1)
	}
}

// Streams: the file source reads a streamed dataset batch by batch
// (streaming.go); the memory source needs the whole table.
func (c *pipelineConfig) Streams() string {
	if c.Source == SourceMemory {
		return "source: memory reads the whole table in memory; use source: file"
	}
	return ""
}

func (c *pipelineConfig) Validate() []error {
	return collect(atLeast("workers", c.Workers, 1), atLeast("threads", c.Threads, 1), atLeast("queue_depth", c.QueueDepth, 1),
		oneOf("source", c.Source, []string{SourceFile, SourceMemory}))
}

// Resources: a session per worker.
func (c *pipelineConfig) Resources() Resources { return Resources{Sessions: c.Workers} }

func (c *pipelineConfig) Shape() Shape { return Shape{Workers: c.Workers, Threads: c.Threads} }
func (c *pipelineConfig) Describe() string {
	return fmt.Sprintf("pipeline: reader (%s) → %s%s → collector, queues of %d, batch %d",
		sourceWords[c.Source], plural(c.Workers, "worker"), sessionWord(&c.Base, c.Threads, "own session"), c.QueueDepth, c.BatchSize)
}

// sourceWords say what each source means in a cell's description.
var sourceWords = map[string]string{
	SourceFile:   "decodes the file every pass",
	SourceMemory: "from the in-memory table",
}

func pipelineDef() Definition {
	return Definition{
		Name:      "pipeline",
		Summary:   "reader (the file, or the in-memory table) → N inference workers (own sessions) → collector, bounded queues",
		Baseline:  "sequential",
		NewConfig: func() Config { return &pipelineConfig{Threads: 1, QueueDepth: -1, Source: SourceFile} },
		New:       func() Strategy { return &pipeline{} },
	}
}
