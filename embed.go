// Package ortbench embeds the default experiment — configs/quick.yaml and
// exactly the model, dataset and reference predictions it names (tens of
// kilobytes) — so `ortbench run` with no -c works from any directory
// without a second copy of those files in the repository.
//
// Note: the files are embedded here, at the module root, because go:embed
// cannot reach outside its package's directory; configs/ alone could not
// embed ../training or ../datasets.
package ortbench

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// defaultFiles keeps the repository's layout, so quick.yaml's relative
// paths (../training/…, ../datasets/…) resolve unchanged once extracted.
//
//go:embed configs/quick.yaml
//go:embed training/models/mlp_small_digits.onnx
//go:embed datasets/data/digits.parquet
//go:embed training/reference/mlp_small_digits.parquet
var defaultFiles embed.FS

// DefaultConfig is the embedded experiment's path inside DefaultFiles.
const DefaultConfig = "configs/quick.yaml"

// DefaultFiles returns the embedded default experiment and its data.
func DefaultFiles() fs.FS { return defaultFiles }

// ExtractDefault writes the embedded default experiment under
// base/default-<first 12 hex digits of its SHA-256>/, keeping the
// repository's layout, and returns the extracted config's path. The folder
// is content-addressed and created atomically (written under a temporary
// name, then renamed), so it is written once per version of the files,
// reused afterwards, and safe when several ortbench processes start at once.
func ExtractDefault(base string) (string, error) {
	sum, err := digest(defaultFiles)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "default-"+sum[:12])
	cfg := filepath.Join(dir, filepath.FromSlash(DefaultConfig))
	if _, err := os.Stat(cfg); err == nil {
		return cfg, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("extracting the default experiment: %w", err)
	}
	tmp, err := os.MkdirTemp(base, ".default-*")
	if err != nil {
		return "", fmt.Errorf("extracting the default experiment: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	err = fs.WalkDir(defaultFiles, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := defaultFiles.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("extracting the default experiment: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(cfg); serr == nil {
			return cfg, nil // another process extracted it first
		}
		return "", fmt.Errorf("extracting the default experiment: %w", err)
	}
	return cfg, nil
}

// digest hashes every file's path and contents, in WalkDir's lexical order.
func digest(fsys fs.FS) (string, error) {
	h, n := sha256.New(), 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path.Clean(p), len(data))
		h.Write(data)
		n++
		return nil
	})
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", errors.New("no embedded files")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
