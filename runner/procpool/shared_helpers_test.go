package procpool

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ortbench/ortbench/datasets"
)

// WriteShared writes rows records of width bytes as the shared dataset
// file a worker maps (what the workload's Share makes in a run, but in
// record batches of 64Ki records, so tasks can straddle two), in dir, and
// returns its path. The caller removes it.
func WriteShared(dir string, data []byte, rows, width int) (string, error) {
	f, err := os.CreateTemp(dir, "ortbench-shared-*.arrow")
	if err != nil {
		return "", fmt.Errorf("shared dataset: %w", err)
	}
	path := f.Name()
	_ = f.Close()
	if err := datasets.WriteRecords(path, data[:rows*width], rows, width, 1<<16); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("shared dataset: %w", err)
	}
	return filepath.Clean(path), nil
}
