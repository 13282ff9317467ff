package runner

import (
	"context"
	"os"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/opprofile"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/workload"
)

// profileCell runs, with profile: true, a measured ORT cell's one
// profiled pass (runner/opprofile): after its repetitions and after its
// strategy closed, so nothing timed shares the machine with it and its
// sessions do not double the cell's memory. It fills cr.rc.Profile and
// warns when most of the time ran off the provider asked for. A cell it
// cannot profile, or a pass that fails, gets a warning saying so; the
// cell's figures stand either way. A provider's nodes the profile cannot
// cost in FLOPs (a compiled subgraph) get the graph's count for the rows
// profiled less the other providers' (opprofile.FromGraph).
func (r *Runner) profileCell(ctx context.Context, cr *cellRun, w workload.Workload) {
	if !r.Plan.Config.Profile || !w.UsesORT() || !results.Measured(cr.rc.Status) || ctx.Err() != nil {
		return
	}
	job := &strategy.Job{Workload: w, Config: cr.cell.Config, Options: SessionOptions(r.Plan.Config)}
	o, err := strategy.ProfileOptions(job)
	if err != nil {
		cr.rc.Warnings = append(cr.rc.Warnings, "profile: not taken: "+err.Error())
		return
	}
	dir, err := os.MkdirTemp("", "ortbench-profile-")
	if err != nil {
		cr.rc.Warnings = append(cr.rc.Warnings, "profile: "+err.Error())
		return
	}
	defer os.RemoveAll(dir) // the file is read into the cell; it can be large
	prof, _, err := opprofile.Pass(ctx, w, o, job.BatchSize(), opprofile.Calls, dir+"/cell")
	if err != nil {
		cr.rc.Warnings = append(cr.rc.Warnings, "profile: "+err.Error())
		return
	}
	cr.rc.Profile = opprofile.Summary(prof, job.BatchSize())
	if e := r.cellFlops(&cr.rc, job.BatchSize()); e.note == "" && cr.rc.Workload.Model != "" {
		// A whole count only: a partial one would shortchange a compiled subgraph.
		opprofile.FromGraph(cr.rc.Profile, e.flops*int64(opprofile.Items(w.Rows(), job.BatchSize(), opprofile.Calls)))
	}
	if msg := opprofile.PlacementWarning(cr.rc.Profile, onnx.LookupProvider(o.Provider).EP); msg != "" {
		cr.rc.Warnings = append(cr.rc.Warnings, msg)
	}
}

// profileNote says, with profile: true, which of the run's cells no
// profile will come from as a whole: a heavy-task run has no ORT session,
// and server-load cells are measured by runner/serve, which profiles none.
func (rj *runJob) profileNote() {
	c := rj.r.Plan.Config
	switch {
	case !c.Profile:
	case !rj.w.UsesORT():
		rj.run.Warnings = append(rj.run.Warnings, "profile: true: the heavy task runs no ONNX Runtime session to profile")
	case c.Load.Server():
		rj.run.Warnings = append(rj.run.Warnings, "profile: true: not taken under server load (load.scenario: server); profile an offline run of the same cells")
	}
}
