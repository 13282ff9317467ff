package config

import (
	"path/filepath"
	"strings"

	"github.com/ortbench/ortbench/runner/strategy"
)

// streamFormats are the dataset files a streaming run can read batch by
// batch with its row count known up front: Parquet (pages of the row
// groups; the footer counts the rows) and Arrow IPC files (mapped record
// batches whose pages are handed back; the footer lists the batches).
var streamFormats = map[string]bool{".parquet": true, ".pq": true, ".arrow": true, ".ipc": true, ".feather": true}

// checkStreaming refuses, with one line each, what cannot run under
// workload.dataset.streaming: the heavy task (no dataset), a format that
// cannot stream, the server scenario (it would hold the whole table), and
// every strategies[] entry whose cells read the table
// in memory (strategy.CanStream: goroutines, worker-pool, …, pipeline with
// source: memory, processes with transport shared or replicate). names maps each planned cell to its
// entry.
func checkStreaming(c *Config, reg strategy.Registry, cells []Cell, names map[string]string, bad func(key, format string, args ...any)) {
	if !c.Workload.Dataset.Streaming {
		return
	}
	const key = "workload.dataset.streaming"
	if c.Workload.Kind == "heavy-task" {
		bad(key, "heavy-task has no dataset to stream; remove it or use kind: onnx")
		return
	}
	if p := c.Workload.Dataset.Path; p != "" {
		switch ext := strings.ToLower(filepath.Ext(p)); {
		case ext == ".arrows":
			bad(key, "%s is an Arrow IPC stream (.arrows), which cannot stream: it has no footer, so its rows are counted by reading it whole; write it as Parquet or an Arrow IPC file (.arrow)", p)
		case !streamFormats[ext]:
			bad(key, "%s cannot stream: streaming reads Parquet (.parquet) or Arrow IPC files (.arrow, .ipc, .feather)", p)
		}
	}
	if c.Load.Server() {
		bad(key, "load.scenario server draws its requests from the whole table in memory; streaming runs the offline scenario only")
	}
	refused := map[string]bool{}
	for _, cell := range cells {
		entry := names[cell.Name]
		if refused[entry] {
			continue
		}
		if ok, why := strategy.CanStream(cell.Config); !ok {
			refused[entry] = true
			bad(key, "%s (%s) cannot stream: %s; streaming runs %s", entry, cell.Name, why, strings.Join(reg.Streaming(), ", "))
		}
	}
}
