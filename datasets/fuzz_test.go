package datasets

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// fuzzColumns make the small valid files that seed the corpus.
func fuzzColumns() []column {
	return []column{
		{name: "x", typ: arrow.PrimitiveTypes.Float32, val: func(i int) float64 { return float64(i) }},
		{name: "n", typ: arrow.PrimitiveTypes.Int32, val: func(i int) float64 { return float64(i) },
			null: func(i int) bool { return i == 1 }},
		{name: "tensor", typ: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float32), val: func(i int) float64 { return float64(i) }},
		{name: "label", typ: arrow.PrimitiveTypes.Int64, val: func(i int) float64 { return float64(i % 2) }},
	}
}

// loadAnyway loads the file at path as a whole-row and as a tensor dataset;
// it fails the test on an inconsistent table, and accepts any error.
func loadAnyway(t *testing.T, path string) {
	// Corrupt sizes should fail fast in the fuzzer, not allocate 1 GiB.
	const allocCap = 64 << 20
	for _, spec := range []Spec{{Path: path, AllowNaN: true, AllocCap: allocCap}, {Path: path, TensorColumn: "tensor", AllocCap: allocCap}} {
		tab, err := Load(spec)
		if err != nil {
			continue
		}
		if tab.Width < 1 || len(tab.Data) != tab.Rows*tab.Width || len(tab.FeatureNames) != tab.Width ||
			(tab.Labels != nil && len(tab.Labels) != tab.Rows) {
			// Errorf, not Fatalf: TestMutatedFiles calls this off the test goroutine.
			t.Errorf("%s: inconsistent table: rows=%d width=%d data=%d names=%d labels=%d",
				path, tab.Rows, tab.Width, len(tab.Data), len(tab.FeatureNames), len(tab.Labels))
		}
	}
}

// FuzzOpen feeds arbitrary bytes to the reader as each file format: it must
// return an error or consistent data, and never panic or crash.
// testdata/fuzz/FuzzOpen/regress-* are inputs that crashed the process
// (out of memory, a fault) or hung it before the defences in guard.go.
func FuzzOpen(f *testing.F) {

	dir := f.TempDir()
	for _, name := range []string{"s.parquet", "s.arrow", "s.arrows"} {
		b, err := os.ReadFile(writeFile(f, dir, name, fuzzColumns(), 4, 2))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("PAR1"))
	f.Add([]byte("ARROW1\x00\x00ARROW1"))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, ext := range []string{".parquet", ".arrow", ".arrows"} {
			p := filepath.Join(dir, "f"+ext)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			loadAnyway(t, p)
		}
	})
}

// TestMutatedFiles reads randomly corrupted copies of valid files with a
// deadline: the native fuzzer cannot detect a hang, and this found the
// unbounded tensor width.
func TestMutatedFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"s.parquet", "s.arrow", "s.arrows"} {
		seed, err := os.ReadFile(writeFile(t, dir, name, fuzzColumns(), 4, 2))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "m"+filepath.Ext(name))
		for range 150 {
			data := append([]byte(nil), seed...)
			for k := rng.IntN(4) + 1; k > 0; k-- {
				data[rng.IntN(len(data))] = byte(rng.IntN(256))
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				loadAnyway(t, p)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no answer in 10s for %q", name, data)
			}
		}
	}
}
