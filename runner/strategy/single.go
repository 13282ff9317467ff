package strategy

import (
	"context"
	"fmt"

	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/workload"
)

// single is one goroutine over one session: sequential, intra-op and
// inter-op differ only in the session's thread settings.
type single struct {
	parallel bool // inter-op: ORT_PARALLEL execution mode
	job      *Job
	p        *pool
}

func (s *single) Start(_ context.Context, job *Job) error {
	opts := job.sessionOptions(job.Params.Threads, job.Params.InterOpThreads, s.parallel)
	p, err := openPool(job, 1, 1, opts)
	if err != nil {
		return err
	}
	s.job, s.p = job, p
	return nil
}

func (s *single) Pass(ctx context.Context, n int, out *workload.Outputs, recs *metrics.Recorders) error {
	return loop(ctx, s.job, s.p.execs[0], n, out, recs.Get(0))
}

func (s *single) Recorders() int { return 1 }
func (s *single) Close() error   { return s.p.close() }

func sequentialDef() Definition {
	return Definition{
		Name:    "sequential",
		Summary: "one goroutine, one session, 1 intra-op thread: the baseline",
		Keys:    nil,
		Defaults: func(p *Params) {
			p.Workers, p.Threads = 1, 1
		},
		Validate: func(Params) error { return nil },
		Describe: func(p Params) string {
			return fmt.Sprintf("sequential: 1 goroutine%s, batch %d", sessionWord(p, "1 session"), p.BatchSize)
		},
		New: func() Strategy { return &single{} },
	}
}

func intraOpDef() Definition {
	return Definition{
		Name:     "intra-op",
		Summary:  "one goroutine, one session with T intra-op threads (ORT's own threading)",
		Keys:     []string{"threads", "spinning"},
		NeedsORT: true,
		Defaults: func(p *Params) {
			p.Workers = 1
		},
		Validate: func(p Params) error { return atLeast("threads", p.Threads, 1) },
		Describe: func(p Params) string {
			return fmt.Sprintf("intra-op: 1 goroutine, 1 session × %s%s, batch %d", threadsWord(p), spinWord(p), p.BatchSize)
		},
		New: func() Strategy { return &single{} },
	}
}

func interOpDef() Definition {
	return Definition{
		Name:     "inter-op",
		Summary:  "one session in parallel execution mode with T inter-op threads",
		Keys:     []string{"inter_op_threads", "threads", "spinning"},
		NeedsORT: true,
		Defaults: func(p *Params) {
			p.Workers = 1
			oneThreadUnlessSet(p)
		},
		Validate: func(p Params) error {
			if err := atLeast("inter_op_threads", p.InterOpThreads, 1); err != nil {
				return err
			}
			return atLeast("threads", p.Threads, 1)
		},
		Describe: func(p Params) string {
			return fmt.Sprintf("inter-op: 1 goroutine, 1 session in parallel mode × %d inter-op × %s%s, batch %d",
				p.InterOpThreads, threadsWord(p), spinWord(p), p.BatchSize)
		},
		New: func() Strategy { return &single{parallel: true} },
	}
}
