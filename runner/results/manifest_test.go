package results

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteAllIsASet: results.json, the derived files and manifest.json
// agree; an incomplete run says so; a results.json rewritten after the
// manifest (killed while writing the derived files) marks them stale.
func TestWriteAllIsASet(t *testing.T) {
	dir := t.TempDir()
	run := &Run{Schema: Schema, RunID: "x", Incomplete: true, IncompleteReason: "running"}
	f := Formats{"json": {File: "results.json", Encode: EncodeJSON}, "csv": {File: "results.csv", Encode: EncodeCSV}}
	if _, err := f.WriteAll(run, dir, nil); err != nil {
		t.Fatal(err)
	}
	st, err := CheckFolder(dir)
	if err != nil || !st.Incomplete || st.Reason != "running" || len(st.Stale) > 0 {
		t.Fatalf("incomplete run read as %+v, %v", st, err)
	}
	run.Incomplete, run.IncompleteReason = false, ""
	if _, err := f.WriteAll(run, dir, nil); err != nil {
		t.Fatal(err)
	}
	if st, err := CheckFolder(dir); err != nil || st.Incomplete || len(st.Stale) > 0 {
		t.Fatalf("complete run read as %+v, %v", st, err)
	}
	// results.json rewritten, manifest not: the derived files are stale.
	run.RunID = "y"
	if err := WriteFileAtomic(filepath.Join(dir, "results.json"), mustJSON(t, run)); err != nil {
		t.Fatal(err)
	}
	if st, _ := CheckFolder(dir); st.Incomplete || len(st.Stale) != 1 || st.Stale[0] != "results.csv" {
		t.Fatalf("stale set read as %+v", st)
	}
	os.Remove(filepath.Join(dir, "results.json"))
	if st, _ := CheckFolder(dir); !st.Incomplete {
		t.Fatalf("folder without results.json read as complete: %+v", st)
	}
}

func mustJSON(t *testing.T, run *Run) []byte {
	t.Helper()
	var b []byte
	w := &sliceWriter{&b}
	if err := EncodeJSON(run, w); err != nil {
		t.Fatal(err)
	}
	return b
}

type sliceWriter struct{ b *[]byte }

func (w *sliceWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// FuzzReadJSON: the result reader never panics, and what it accepts it
// can write back (every figure finite).
func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`{"schema": "ortbench/results/v2", "cells": []}`))
	f.Add([]byte(`{"schema": "ortbench/results/v2", "cells": [{"status": "ok", "params": {"workers": 2}, "rows_per_second": 1e300}]}`))
	f.Add([]byte(`{"schema": "ortbench/results/v2", "incomplete": true, "cells": [{"latency_seconds": null}]}`))
	f.Add([]byte(`[[[[[[[[[[]]]]]]]]]]`))
	f.Add([]byte(`{"schema": "ortbench/results/v2", "cells": "many"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "results.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		run, err := ReadJSON(p)
		_, _ = CheckFolder(dir)
		if err != nil {
			return
		}
		var sink sliceWriter
		var b []byte
		sink.b = &b
		_ = EncodeJSON(run, &sink)
		_ = EncodeCSV(run, &sink)
	})
}
