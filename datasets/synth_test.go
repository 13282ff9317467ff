package datasets

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteSynth(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	spec := SynthSpec{Rows: 1000, Features: 5, Classes: 3, Seed: 42}
	a, b, c := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet"), filepath.Join(dir, "c.parquet")
	if err := WriteSynth(ctx, spec, a); err != nil {
		t.Fatal(err)
	}
	// Batches of 7 rows: the same values, however rows are grouped.
	if err := writeSynth(ctx, spec, b, 7); err != nil {
		t.Fatal(err)
	}
	ta, err := Load(Spec{Path: a})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Load(Spec{Path: b})
	if err != nil {
		t.Fatal(err)
	}
	if ta.Rows != 1000 || ta.Width != 5 || len(ta.Labels) != 1000 {
		t.Fatalf("shape: rows=%d width=%d labels=%d", ta.Rows, ta.Width, len(ta.Labels))
	}
	if !slices.Equal(ta.FeatureNames, []string{"f0", "f1", "f2", "f3", "f4"}) {
		t.Fatalf("names = %v", ta.FeatureNames)
	}
	if !slices.Equal(ta.Data, tb.Data) || !slices.Equal(ta.Labels, tb.Labels) {
		t.Fatal("same spec, different batch size: different data")
	}
	// Same spec, same bytes (same arrow-go version, same row groups).
	if err := WriteSynth(ctx, spec, c); err != nil {
		t.Fatal(err)
	}
	ba, _ := os.ReadFile(a)
	bc, _ := os.ReadFile(c)
	if !bytes.Equal(ba, bc) {
		t.Fatal("two writes of the same spec differ")
	}
	// Another seed, other data.
	spec.Seed = 43
	if err := WriteSynth(ctx, spec, c); err != nil {
		t.Fatal(err)
	}
	tc, err := Load(Spec{Path: c})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(ta.Data, tc.Data) {
		t.Fatal("seed ignored")
	}

	// Every class occurs, and its rows sit near their own centroid more
	// often than not: the data is learnable.
	counts := make([]int, 3)
	means := make([][]float64, 3)
	for k := range means {
		means[k] = make([]float64, 5)
	}
	for i, l := range ta.Labels {
		counts[l]++
		for j := range 5 {
			means[l][j] += float64(ta.Data[i*5+j])
		}
	}
	for k := range means {
		if counts[k] < 200 {
			t.Fatalf("class %d has %d rows", k, counts[k])
		}
		for j := range means[k] {
			means[k][j] /= float64(counts[k])
		}
	}
	correct := 0
	for i, l := range ta.Labels {
		best, bestD := -1, 0.0
		for k := range means {
			d := 0.0
			for j := range 5 {
				x := float64(ta.Data[i*5+j]) - means[k][j]
				d += x * x
			}
			if best < 0 || d < bestD {
				best, bestD = k, d
			}
		}
		if int64(best) == l {
			correct++
		}
	}
	if acc := float64(correct) / 1000; acc < 0.6 || acc > 0.99 {
		t.Fatalf("nearest-centroid accuracy %.2f, want between chance and perfect", acc)
	}

	// Bounded read-back: stream it with a small buffer.
	r, err := Open(Spec{Path: a, Limit: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dst := make([]float32, 64*r.Width())
	got := 0
	for {
		n, err := r.Read(dst, nil)
		if err != nil {
			break
		}
		if !slices.Equal(dst[:n*5], ta.Data[got*5:(got+n)*5]) {
			t.Fatalf("rows %d.. differ", got)
		}
		got += n
	}
	if got != 300 {
		t.Fatalf("read %d rows, want 300", got)
	}
}

func TestWriteSynthErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.parquet")
	err := WriteSynth(context.Background(), SynthSpec{Rows: 0, Features: 0, Classes: 1}, p)
	if err == nil {
		t.Fatal("bad spec accepted")
	}
	for _, want := range []string{p + ": ", "rows = 0, want at least 1", "features = 0, want 1..", "classes = 1, want 2.."} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = WriteSynth(ctx, SynthSpec{Rows: 10, Features: 2, Classes: 2}, p)
	if !errors.Is(err, context.Canceled) && (err == nil || !strings.Contains(err.Error(), "context canceled")) {
		t.Fatalf("cancelled: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Fatalf("files left after failures: %v", m)
	}
	if err := WriteSynth(context.Background(), SynthSpec{Rows: 1, Features: 1, Classes: 2}, filepath.Join(dir, "no", "dir.parquet")); err == nil {
		t.Fatal("missing directory accepted")
	}
}
