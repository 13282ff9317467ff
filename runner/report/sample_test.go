package report

import (
	"fmt"
	"math"
	"time"

	"github.com/ortbench/ortbench/runner/results"
)

// sampleRun is a run shaped like a real sweep: a sequential baseline, Go-level
// and ORT-level concurrency, processes with shared pages, a failed, a skipped
// and an unstable cell, and a timeline.
func sampleRun() *results.Run {
	const base = 41000.0 // rows/s of the sequential cell
	run := &results.Run{
		Schema:     results.Schema,
		Experiment: results.Experiment{Name: "go-vs-ort-threads", Description: "SYNTHETIC example data for tests and the README screenshot, not a measurement", ConfigPath: "configs/go-vs-ort-threads.yaml", ConfigSHA256: "3f9a1c0e5b7d2a4c6e8f0a1b2c3d4e5f"},
		Environment: results.Environment{CPUModel: "AMD EPYC 7B13", PhysicalCores: 8, LogicalCores: 16, MemoryBytes: 64 << 30,
			OS: "debian 12.8", Kernel: "6.1.0-27-amd64", Arch: "amd64", GoVersion: "go1.26.8", OnnxruntimeVersion: "1.24.1",
			OnnxruntimeLibrary: ".ort/libonnxruntime.so.1.24.1", GOMAXPROCS: 16, GitCommit: "a1b2c3d", Hostname: "bench-1", Caches: "L1d 32 KiB, L2 512 KiB, L3 32 MiB"},
		Settings: results.Settings{WarmupBatches: 10, Repetitions: 5, MinDurationSeconds: 1, Tolerance: 1e-5, GraphOptimization: "all",
			MemArena: true, MemPattern: true, UnstableSpread: 0.2, SampleInterval: 0.05, ReferenceCell: "sequential/batch=64"},
		StartedAt:  time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC),
		FinishedAt: time.Date(2026, 11, 25, 21, 7, 42, 0, time.UTC),
		Warnings:   []string{"hybrid/workers=4/threads=4/batch=64: oversubscribed: 16 threads on 8 physical cores"},
	}
	add := func(strategy string, workers, threads int, speedup float64, procs int) *results.Cell {
		cores := max(workers, 1) * max(threads, 1)
		rps := base * speedup
		p50 := 64 / rps * float64(max(workers, 1))
		name := fmt.Sprintf("%s/workers=%d/threads=%d/batch=64", strategy, workers, threads)
		if strategy == "sequential" {
			name = "sequential/batch=64"
		}
		c := results.Cell{
			Name: name, Strategy: strategy, Description: fmt.Sprintf("%s: %d workers × %d intra-op threads, batch 64", strategy, max(workers, 1), threads),
			Params:   results.NewParams("workers", workers, "threads", threads, "batch_size", 64),
			Workload: results.Workload{Kind: "onnx", Model: "training/models/mlp_large_digits.onnx", Dataset: "digits", Rows: 17970, Width: 64},
			Status:   results.StatusOK, RowsPerSecond: rps, BatchesPerSec: rps / 64,
			Throughput: results.Summary{Median: rps, Lo: rps * 0.97, Hi: rps * 1.025, Confidence: 0.95, Spread: 0.05},
			Speedup:    speedup, Efficiency: speedup / float64(cores), CoresUsed: cores, SpeedupBase: "sequential/batch_size=64",
			Latency:      results.Latency{Mean: p50 * 1.1, P50: p50, P99: p50 * (1.8 + 0.15*float64(cores)), Listed: []results.Percentile{{P: 90, Seconds: p50 * 1.4}, {P: 99.9, Seconds: p50 * 3}}, Max: p50 * 5},
			CPU:          results.CPU{UserSeconds: float64(cores) * 0.9, SystemSeconds: 0.1 * float64(cores), CoresBusy: math.Min(float64(cores)*0.93, 16), Utilization: math.Min(float64(cores)*0.93, 16) / 16},
			Memory:       results.Memory{PeakRSSBytes: uint64(60+8*max(workers, 1)) << 20, RSSSumBytes: uint64(procs*(60+8*max(workers, 1))) << 20, PSSSumBytes: uint64(procs*40+20+8*max(workers, 1)) << 20, Processes: procs},
			Verification: results.Verification{RowsChecked: 17970, Passed: true, Reference: "sequential/batch=64"},
		}
		for r := 0; r < 5; r++ {
			f := 1 + 0.02*float64(r-2)
			c.Repetitions = append(c.Repetitions, results.Repetition{WallSeconds: 17970 / (rps * f), RowsPerSecond: rps * f, P50Seconds: p50, P99Seconds: c.Latency.P99, PeakRSSBytes: c.Memory.PeakRSSBytes})
		}
		run.Cells = append(run.Cells, c)
		return &run.Cells[len(run.Cells)-1]
	}
	seq := add("sequential", 0, 1, 1, 1)
	for i := 0; i < 60; i++ {
		t := float64(i) * 0.05
		rss := uint64(58<<20) + uint64(math.Min(t, 0.4)*10*(1<<20))
		seq.Timeline = append(seq.Timeline, results.Sample{Seconds: t, RSSBytes: rss, CPUSeconds: t*0.97 + 0.01*math.Sin(t*7)})
	}
	for _, w := range []int{2, 4, 8} {
		add("goroutines", w, 1, []float64{1.8, 3.1, 4.4}[w/4], 1)
	}
	for _, w := range []int{2, 4, 8} {
		add("worker-pool", w, 1, []float64{1.95, 3.7, 6.1}[w/4], 1)
	}
	for _, t := range []int{2, 4, 8} {
		add("intra-op", 0, t, []float64{1.6, 2.4, 2.9}[t/4], 1)
	}
	add("hybrid", 2, 2, 3.3, 1)
	u := add("hybrid", 4, 4, 5.2, 1)
	u.Status = results.StatusUnstable
	u.Throughput.Spread = 0.31
	for _, w := range []int{2, 4} {
		c := add("processes", w, 1, []float64{1.7, 3.2}[w/4], w+1)
		c.Params = append(c.Params, results.Param{Key: "transport", Value: "mmap"})
		c.Name += "/transport=mmap"
	}
	run.Cells = append(run.Cells,
		results.Cell{Name: "worker-pool/workers=16/threads=1/batch=64", Strategy: "worker-pool", Status: results.StatusFailed,
			Params: results.NewParams("workers", 16, "threads", 1, "batch_size", 64), Error: "verification failed: 12 rows differ from the reference (max abs diff 0.031 > tolerance 1e-05)",
			Verification: results.Verification{RowsChecked: 17970, Mismatches: 12, MaxAbsDiff: 0.031}},
		results.Cell{Name: "processes/workers=8/threads=1/batch=64/transport=pipe", Strategy: "processes", Status: results.StatusSkipped,
			Params: results.NewParams("workers", 8, "threads", 1, "transport", "pipe", "batch_size", 64), Error: "skipped: the run was interrupted"},
	)
	addRoofline(run)
	return run
}

// addRoofline gives the sample run a measured ceiling (1…16 cores) and each
// ok cell its place on the roofline, as runner/compute.go would: the large
// MLP's 2 248 704 FLOPs and, at batch 64, 304 + 4 505 688 ÷ 64 bytes a row.
func addRoofline(run *results.Run) {
	ceil := &results.Ceiling{Model: "matmul [256,1024]x[1024,1024] float32", BandwidthModel: "add [1,8388608]+[8388608] float32"}
	for t := 1; t <= 16; t++ {
		g := 110 * float64(t) * (1 - 0.02*float64(t))
		bw := 22 * math.Pow(float64(t), 0.6)
		ceil.Points = append(ceil.Points, results.CeilingPoint{Threads: t, GFLOPS: g, MedianGFLOPS: g * 0.97, Way: "intra-op", BandwidthGBPS: bw, MedianBandwidthGBPS: bw * 0.97, BandwidthWay: "intra-op"})
	}
	run.Environment.Ceiling = ceil
	const flops = 2248704
	for i := range run.Cells {
		c := &run.Cells[i]
		if !results.Measured(c.Status) {
			continue
		}
		bytes := 304 + 4505688/float64(max(c.Params.Int("batch_size"), 1))
		ai := flops / bytes
		g := flops * c.RowsPerSecond / 1e9
		p, _ := ceil.At(c.CoresUsed)
		pct := 100 * g / p.GFLOPS
		att := math.Min(p.GFLOPS, ai*p.BandwidthGBPS)
		c.Compute = &results.Compute{FlopsPerRow: flops, GFLOPS: &g, CeilingThreads: p.Threads, CeilingGFLOPS: &p.GFLOPS, PctOfCeiling: &pct,
			BytesPerRow: &bytes, FlopsPerByte: &ai, CeilingBandwidthGBPS: &p.BandwidthGBPS, AttainableGFLOPS: &att}
	}
}
