package runner

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/verify"
	"github.com/ortbench/ortbench/runner/workload"
)

// Prepare loads ORT when the workload needs it and builds the workload:
// a missing model, a missing dataset column or a width mismatch fails here,
// before anything is measured, and so does a plan whose cells need more
// memory than the machine has. It records the library actually loaded in
// the config (so the resolved config and its SHA-256 name it). It returns
// as soon as ctx is cancelled, even while a large dataset is still loading.
func Prepare(ctx context.Context, plan *config.Plan) (workload.Workload, error) {
	type result struct {
		w   workload.Workload
		err error
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w before loading the workload", ErrInterrupted)
	}
	done := make(chan result, 1)
	go func() {
		w, err := openWorkload(plan.Config)
		done <- result{w, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, r.err
		}
		noteShortDataset(plan, r.w)
		return r.w, checkMemory(plan, r.w)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w while loading the workload", ErrInterrupted)
	}
}

// openWorkload loads ORT for a model workload, checks its files exist (an
// error at the config key) and loads the workload.
func openWorkload(c *config.Config) (workload.Workload, error) {
	library := ""
	if c.Workload.Kind == "onnx" {
		path, version, err := onnx.Init(c.Abs(c.ONNXRuntime.Library))
		if err != nil {
			return nil, err
		}
		slog.Debug("onnxruntime loaded", "path", path, "version", version)
		library = path
		if _, err := os.Stat(c.Abs(c.Workload.Model)); err != nil {
			return nil, config.Errors{c.Errorf("workload.model", "%s: %v", c.Abs(c.Workload.Model), errNotFound(err))}
		}
		for _, f := range []struct{ key, path string }{{"workload.dataset.path", c.Workload.Dataset.Path}, {"workload.test_data", c.Workload.TestData}} {
			if f.path == "" {
				continue
			}
			if _, err := os.Stat(c.Abs(f.path)); err != nil {
				return nil, config.Errors{c.Errorf(f.key, "%s: %v", c.Abs(f.path), errNotFound(err))}
			}
		}
	}
	w, err := LoadWorkload(c)
	if err != nil {
		return nil, config.Errors{c.Errorf("workload", "%v", err)}
	}
	if e := c.Verify.Expected; e != "" && c.Workload.Kind == "onnx" {
		// Before any cell: the rows and columns, not yet the values.
		if err := verify.CheckExpected(c.Abs(e), w.Layout(), w.Rows()); err != nil {
			return nil, config.Errors{c.Errorf("verify.expected", "%v", err)}
		}
	}
	c.SetLibrary(library)
	return w, nil
}

func errNotFound(err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("no such file (paths are relative to the config file's directory)")
	}
	return err
}

// Footprint is what the workload and the config's model occupy, for the
// memory estimates (config.EstimateMemory).
func Footprint(c *config.Config, w workload.Workload) config.Footprint {
	f := config.Footprint{Rows: w.Rows(), RowBytes: int64(w.RecordBytes())}
	f.DataBytes = workload.ResidentBytes(w) // 0 when streamed: one batch at a time
	if c.Workload.Model != "" {
		if st, err := os.Stat(c.Abs(c.Workload.Model)); err == nil {
			f.ModelBytes = st.Size()
		}
	}
	return f
}

// checkMemory refuses a plan whose cells need more memory than the machine
// has available (config.EstimateMemory), before any cell starts.
func checkMemory(plan *config.Plan, w workload.Workload) error {
	return plan.CheckMemory(Footprint(plan.Config, w), config.AvailableMemory())
}

// noteShortDataset states in the plan's warnings (printed by validate, kept
// in results.json) that rows asked for more rows than the dataset holds, so
// that a run over the whole, smaller file is not taken for the rows asked.
func noteShortDataset(plan *config.Plan, w workload.Workload) {
	c := plan.Config
	if c.Workload.Kind != "onnx" || c.Workload.Rows <= 0 || w.Rows() >= c.Workload.Rows {
		return
	}
	plan.Warnings = append(plan.Warnings, fmt.Sprintf("workload.rows: %d asked, but %s holds %d rows: all %d are used",
		c.Workload.Rows, c.Workload.Dataset.Path, w.Rows(), w.Rows()))
}
