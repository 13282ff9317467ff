package tune

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// ProfileCalls is how many inference calls the profiled pass makes.
const ProfileCalls = 64

// ProfileWinner runs one profiled pass of point p's session settings (one
// session with p's intra-op threads and spinning, p's batch size; ORT's
// own profiler on) over w's rows and summarises where the kernels' time
// went, by operator type — the "why" a measurement alone cannot give
// ("MatMul is 80% of the time: the threads' gain is the GEMM's"). The
// profile file stays in dir.
func ProfileWinner(ctx context.Context, w workload.Workload, base onnx.Options, p Point, dir string) (onnx.Profile, string, error) {
	if !w.UsesORT() {
		return onnx.Profile{}, "", errors.New("profile: the workload runs no ONNX Runtime session")
	}
	o := base
	o.IntraOpThreads, o.InterOpThreads = max(p.Shape.Threads, 1), 1
	o.Spinning = p.Spinning
	o.ProfilePrefix = filepath.Join(dir, "profile-winner")
	e, err := w.Open(o)
	if err != nil {
		return onnx.Profile{}, "", err
	}
	bs := max(p.Batch, 1)
	x, err := e.NewExecutor(workload.RowCounts(w.Rows(), bs)...)
	if err != nil {
		return onnx.Profile{}, "", errors.Join(err, e.Close())
	}
	out := workload.NewOutputs(w.Layout(), w.Rows(), bs)
	width, n := w.RecordBytes(), workload.Batches(w.Rows(), bs)
	var runErr error
	for i := range ProfileCalls {
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
		start, k := workload.Span(i%n, bs, w.Rows())
		if runErr = x.Run(w.Data()[start*width:(start+k)*width], start, out); runErr != nil {
			break
		}
	}
	// ORT writes the profile when the session is released.
	if err := errors.Join(runErr, x.Close(), e.Close()); err != nil {
		return onnx.Profile{}, "", err
	}
	files, _ := filepath.Glob(o.ProfilePrefix + "*.json")
	if len(files) == 0 {
		return onnx.Profile{}, "", fmt.Errorf("profile: ONNX Runtime wrote no %s*.json", o.ProfilePrefix)
	}
	prof, err := onnx.ReadProfile(files[len(files)-1])
	return prof, files[len(files)-1], err
}

// ProfileLines are the profile as "why" lines: where the kernels' time
// went, by operator, and — with more than one intra-op thread — how the
// thread pool spent it (ORT's thread_scheduling_stats). what names the
// profiled point ("the throughput winner").
func ProfileLines(what string, p Point, prof onnx.Profile) []string {
	threads := fmt.Sprintf("%d intra-op threads", max(p.Shape.Threads, 1))
	if p.Shape.Threads <= 1 {
		threads = "1 intra-op thread"
	}
	out := []string{fmt.Sprintf("profile of %s (one of its sessions × %s, batch %d, %d calls, ORT's profiler): %s",
		what, threads, max(p.Batch, 1), ProfileCalls, prof.Line())}
	if l := prof.ThreadLine(); l != "" {
		out = append(out, "thread utilisation in that profile: "+l)
	}
	return out
}
