package strategy

import (
	"errors"

	"github.com/ortbench/ortbench/onnx"
)

// ProfileOptions are the session options of one of the job's sessions,
// for the run's untimed profiled pass (profile: true) in this process:
// the cell's threads, execution mode, spinning and provider. It fails for
// a cell whose sessions this process cannot reproduce: a py-* strategy's
// (the Python wheel's runtime) or a processes cell on another ONNX
// Runtime library (this process has loaded its own).
func ProfileOptions(job *Job) (onnx.Options, error) {
	if pythonSide(job.Config) {
		return onnx.Options{}, errors.New("its sessions run in Python, outside ORT's profiler here")
	}
	if p, ok := job.Config.(*processesConfig); ok && p.Library != "" && p.Library != onnx.LibraryPath() {
		return onnx.Options{}, errors.New("its workers load another ONNX Runtime library (library:) than this process")
	}
	if job.Config.Common().Facts.NoORT {
		return onnx.Options{}, errors.New("it runs no ONNX Runtime session")
	}
	sh := job.Shape()
	return job.sessionOptions(sh.Threads, sh.InterOp, sh.Parallel), nil
}
