package procpool

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ortbench/ortbench/datasets"
)

// WriteShared writes rows × width values as the shared dataset file a
// worker maps (what the workload's Share makes in a run), in dir, and
// returns its path. The caller removes it.
func WriteShared(dir string, data []float32, rows, width int) (string, error) {
	f, err := os.CreateTemp(dir, "ortbench-shared-*.arrow")
	if err != nil {
		return "", fmt.Errorf("shared dataset: %w", err)
	}
	path := f.Name()
	_ = f.Close()
	t := &datasets.Table{Path: path, Width: width, Rows: rows, Data: data[:rows*width]}
	if err := datasets.WriteArrowIPC(t, path); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("shared dataset: %w", err)
	}
	return filepath.Clean(path), nil
}
