package tune

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/opprofile"
	"github.com/ortbench/ortbench/runner/workload"
)

// ProfileCalls is how many inference calls the profiled pass makes.
const ProfileCalls = opprofile.Calls

// ProfileWinner runs one profiled pass of point p's session settings (one
// session with p's intra-op threads and spinning, p's batch size; ORT's
// own profiler on) over w's rows and summarises where the kernels' time
// went, by operator type — the "why" a measurement alone cannot give
// ("MatMul is 80% of the time: the threads' gain is the GEMM's"). The
// profile file stays in dir.
func ProfileWinner(ctx context.Context, w workload.Workload, base onnx.Options, p Point, dir string) (onnx.Profile, string, error) {
	o := base
	o.IntraOpThreads, o.InterOpThreads = max(p.Shape.Threads, 1), 1
	o.Spinning = p.Spinning
	return opprofile.Pass(ctx, w, o, p.Batch, ProfileCalls, filepath.Join(dir, "profile-winner"))
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
		what, threads, max(p.Batch, 1), ProfileCalls, opprofile.Summary(prof, max(p.Batch, 1)).Line())}
	if l := prof.ThreadLine(); l != "" {
		out = append(out, "thread utilisation in that profile: "+l)
	}
	return out
}
