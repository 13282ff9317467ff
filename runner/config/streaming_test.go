package config

import (
	"errors"
	"strings"
	"testing"
)

const streamBase = `
name: t
workload:
  model: m.onnx
  dataset:
    path: d.parquet
    streaming: true
batch_sizes: [64]
strategies:
  - strategy: sequential
  - strategy: pipeline
    workers: [1, 2]
`

// TestStreamingPlans: sequential, intra-op, inter-op, pipeline (file
// source) and processes (transport copy) stream; the plan keeps its cells.
func TestStreamingPlans(t *testing.T) {
	y := streamBase + "  - strategy: intra-op\n    threads: 2\n  - strategy: inter-op\n  - strategy: processes\n    workers: 2\n    transport: copy\n"
	for _, path := range []string{"d.parquet", "d.arrow", "d.feather"} {
		p, err := plan(t, strings.Replace(y, "d.parquet", path, 1))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(p.Cells) != 6 || !p.Config.Workload.Dataset.Streaming {
			t.Fatalf("%s: %d cells, streaming %v", path, len(p.Cells), p.Config.Workload.Dataset.Streaming)
		}
	}
}

// TestStreamingRefusals: each thing that cannot stream is one line naming
// the file, the line and the key.
func TestStreamingRefusals(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"strategy that needs the table", streamBase + "  - strategy: goroutines\n    workers: [1, 2]\n",
			"x.yaml:7: workload.dataset.streaming: strategies[2] (goroutines/workers=1/batch_size=64) cannot stream: it reads its batches from the whole table in memory; streaming runs inter-op, intra-op, pipeline, processes, sequential"},
		{"processes sharing the table", streamBase + "  - strategy: processes\n    workers: 2\n",
			"x.yaml:7: workload.dataset.streaming: strategies[2] (processes/workers=2/batch_size=64) cannot stream: transport shared needs the whole table (shared maps it, replicate loads it in every worker); use transport: copy"},
		{"pipeline from memory", strings.Replace(streamBase, "workers: [1, 2]", "workers: 1\n    source: memory", 1),
			"x.yaml:7: workload.dataset.streaming: strategies[1] (pipeline/workers=1/source=memory/batch_size=64) cannot stream: source: memory reads the whole table in memory; use source: file"},
		{"arrow stream", strings.Replace(streamBase, "d.parquet", "d.arrows", 1),
			"x.yaml:7: workload.dataset.streaming: d.arrows is an Arrow IPC stream (.arrows), which cannot stream: it has no footer"},
		{"unknown format", strings.Replace(streamBase, "d.parquet", "d.csv", 1),
			"x.yaml:7: workload.dataset.streaming: d.csv cannot stream: streaming reads Parquet (.parquet) or Arrow IPC files"},
		{"server scenario", streamBase + "load:\n  scenario: server\n  qps: 100\n",
			"x.yaml:7: workload.dataset.streaming: load.scenario server draws its requests from the whole table in memory"},
		{"heavy task", "workload:\n  kind: heavy-task\n  items: 10\n  cost: 10\n  dataset:\n    streaming: true\nstrategies: [{strategy: sequential}]\n",
			"x.yaml:6: workload.dataset.streaming: heavy-task has no dataset to stream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := plan(t, tc.yaml)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			var line string
			for _, l := range strings.Split(err.Error(), "\n") {
				if strings.Contains(l, "stream") {
					if line != "" {
						t.Errorf("more than one streaming line:\n%v", err)
					}
					line = l
				}
			}
			if !strings.Contains(line, tc.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tc.want)
			}
		})
	}
}
