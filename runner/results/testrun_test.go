package results

import "time"

// sampleRun is a small run with ok, unstable, failed and skipped cells.
func sampleRun() *Run {
	rep := func(rps float64) Repetition {
		return Repetition{WallSeconds: 1000 / rps, RowsPerSecond: rps, P50Seconds: 0.002, P99Seconds: 0.004, PeakRSSBytes: 50 << 20}
	}
	ok := func(name, strategy string, workers, threads int, rps float64) Cell {
		return Cell{
			Name: name, Strategy: strategy, Status: StatusOK,
			Params:        NewParams("workers", workers, "threads", threads, "batch_size", 64),
			Workload:      Workload{Kind: "onnx", Model: "training/models/mlp_large_digits.onnx", Dataset: "digits", Rows: 1797},
			RowsPerSecond: rps, Throughput: Summary{Median: rps, Lo: rps * 0.97, Hi: rps * 1.02},
			Speedup: rps / 10000, SpeedupBase: "sequential/batch=64", Efficiency: rps / 10000 / float64(max(workers, 1)),
			Latency:      Latency{P50: 0.002, P99: 0.004},
			Memory:       Memory{PeakRSSBytes: 50 << 20, RSSSumBytes: 60 << 20, PSSSumBytes: 55 << 20},
			Verification: Verification{RowsChecked: 1797, Passed: true},
			Repetitions:  []Repetition{rep(rps * 0.98), rep(rps), rep(rps * 1.01)},
		}
	}
	return &Run{
		Schema:      Schema,
		Experiment:  Experiment{Name: "go-vs-ort-threads", ConfigSHA256: "abc123"},
		Environment: Environment{CPUModel: "Test CPU @ 3GHz", LogicalCores: 8, OS: "debian 12", Kernel: "6.1", Arch: "amd64", GoVersion: "go1.26.8", OnnxruntimeVersion: "1.24.1", GOMAXPROCS: 8},
		StartedAt:   time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Cells: []Cell{
			ok("sequential/batch=64", "sequential", 0, 1, 10000),
			ok("worker-pool/workers=2/batch=64", "worker-pool", 2, 1, 19000),
			{Name: "worker-pool/workers=4/batch=64", Strategy: "worker-pool", Status: StatusFailed, Error: "verification failed: 3 mismatches",
				Params: NewParams("workers", 4, "threads", 1, "batch_size", 64), Workload: Workload{Kind: "onnx", Model: "mlp_large_digits.onnx"}},
			{Name: "processes/workers=2/batch=64", Strategy: "processes", Status: StatusSkipped, Error: "skipped: not supported",
				Params: NewParams("workers", 2, "transport", "pipe", "batch_size", 64), Workload: Workload{Kind: "onnx", Model: "mlp_large_digits.onnx"}},
		},
	}
}
