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
// cell's figures stand either way.
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
	if msg := opprofile.PlacementWarning(cr.rc.Profile, onnx.LookupProvider(o.Provider).EP); msg != "" {
		cr.rc.Warnings = append(cr.rc.Warnings, msg)
	}
}
