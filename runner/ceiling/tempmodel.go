package ceiling

import (
	"fmt"
	"os"
	"runtime"
)

// tempModel writes model to a temporary file that no exit can leave
// behind: on Linux the file is unlinked at once and read through
// /proc/self/fd while its descriptor stays open, so the kernel frees it
// when the process ends — by a signal, os.Exit or kill -9 included. The
// caller calls done once no session will load it again. Elsewhere it is a
// named file that done removes.
//
// Note: a signal handler removing named files was rejected: kill -9 runs
// no handler, and the matmul model is tens of MB.
func tempModel(pattern string, model []byte) (path string, done func(), err error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", nil, fmt.Errorf("ceiling: %w", err)
	}
	if _, err := f.Write(model); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", nil, fmt.Errorf("ceiling: writing the model: %w", err)
	}
	if runtime.GOOS != "linux" {
		name := f.Name()
		if err := f.Close(); err != nil {
			os.Remove(name)
			return "", nil, fmt.Errorf("ceiling: writing the model: %w", err)
		}
		return name, func() { os.Remove(name) }, nil
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("ceiling: %w", err)
	}
	return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), func() { f.Close() }, nil
}
