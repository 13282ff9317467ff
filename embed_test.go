package ortbench

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDefaultEmbedsWhatItNames: the embedded files are exactly the config
// and the three files its paths name — nothing missing, nothing extra.
func TestDefaultEmbedsWhatItNames(t *testing.T) {
	data, err := fs.ReadFile(DefaultFiles(), DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Workload struct {
			Model   string
			Dataset struct{ Path string }
		}
		Verify struct{ Expected string }
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	want := []string{DefaultConfig}
	for _, p := range []string{c.Workload.Model, c.Workload.Dataset.Path, c.Verify.Expected} {
		if p == "" {
			t.Fatal("the default experiment names no model, dataset or reference")
		}
		want = append(want, path.Join(path.Dir(DefaultConfig), p))
	}
	var got []string
	_ = fs.WalkDir(DefaultFiles(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, p)
		}
		return err
	})
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("embedded %v, want %v", got, want)
	}
	for _, p := range got {
		embedded, _ := fs.ReadFile(DefaultFiles(), p)
		onDisk, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil || !bytes.Equal(embedded, onDisk) {
			t.Errorf("%s: embedded copy differs from the repository's (%v)", p, err)
		}
	}
}

func TestExtractDefault(t *testing.T) {
	base := t.TempDir()
	var wg sync.WaitGroup
	paths := make([]string, 4)
	errs := make([]error, 4)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i], errs[i] = ExtractDefault(base)
		}()
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if paths[i] != paths[0] {
			t.Fatalf("concurrent extractions disagree: %v", paths)
		}
	}
	cfg := paths[0]
	root := filepath.Dir(filepath.Dir(cfg))
	for _, rel := range []string{"training/models/mlp_small_digits.onnx", "datasets/data/digits.parquet", "training/reference/mlp_small_digits.parquet"} {
		if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
			t.Error(err)
		}
	}
	entries, _ := os.ReadDir(base)
	if len(entries) != 1 {
		t.Errorf("leftovers beside the extracted folder: %v", entries)
	}
	again, err := ExtractDefault(base)
	if err != nil || again != cfg {
		t.Fatalf("second extraction: %s, %v", again, err)
	}
}
