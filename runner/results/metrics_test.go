package results

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestCPUPer1k: user+system CPU seconds ÷ items × 1000, items the rows of
// every measured pass (a server cell's: its completed requests' rows), null
// where the CPU figure cannot be trusted or nothing was processed.
func TestCPUPer1k(t *testing.T) {
	offline := Cell{Status: StatusOK, Workload: Workload{Rows: 500}, CPU: CPU{UserSeconds: 1.5, SystemSeconds: 0.5, CoresBusy: 1},
		Repetitions: []Repetition{{Passes: 2, CPUSeconds: 0.9}, {Passes: 2, CPUSeconds: 1.1}}}
	server := Cell{Status: StatusOK, Workload: Workload{Rows: 500}, CPU: CPU{UserSeconds: 0.3, SystemSeconds: 0.1, CoresBusy: 0.5},
		Repetitions: []Repetition{{Passes: 1}}, Serving: &Serving{Completed: 200, RequestRows: 4}}
	tooShort := offline
	tooShort.CPU.TooShort = true
	failed := offline
	failed.Status = StatusFailed
	noPasses := offline
	noPasses.Repetitions = nil
	for _, tc := range []struct {
		name string
		cell Cell
		want any
	}{
		{"offline: 2 s over 2000 rows", offline, 1.0},
		{"server: 0.4 s over 800 rows", server, 0.5},
		{"too short for the clock", tooShort, nil},
		{"not measured", failed, nil},
		{"no items", noPasses, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := metric(t, "cpu_seconds_per_1k_items").Value(&tc.cell)
			if f, ok := got.(float64); ok && tc.want != nil {
				if math.Abs(f-tc.want.(float64)) > 1e-12 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Each repetition's own reading: its CPU over its passes' rows.
	if got := metric(t, "cpu_seconds_per_1k_items").Readings(&offline); len(got) != 2 || math.Abs(got[0]-0.9) > 1e-12 || math.Abs(got[1]-1.1) > 1e-12 {
		t.Fatalf("readings %v, want [0.9 1.1]", got)
	}
}

// TestCPUPer1kInEveryOutput: the one entry reaches the table, the flat
// columns, bench.txt and results.json.
func TestCPUPer1kInEveryOutput(t *testing.T) {
	run := sampleRun()
	for i := range run.Cells[:2] {
		c := &run.Cells[i]
		c.CPU = CPU{UserSeconds: 0.8, SystemSeconds: 0.2, CoresBusy: 1}
		for r := range c.Repetitions {
			c.Repetitions[r].Passes, c.Repetitions[r].CPUSeconds = 1, 1.797/3
		}
	}
	var table, bench, js bytes.Buffer
	if err := WriteTable(run, &table); err != nil {
		t.Fatal(err)
	}
	if err := EncodeBenchfmt(run, &bench); err != nil {
		t.Fatal(err)
	}
	if err := EncodeJSON(run, &js); err != nil {
		t.Fatal(err)
	}
	// 1 s of CPU over 3 passes of 1797 rows; 0.599 s per repetition's pass.
	for what, want := range map[string][2]string{
		"table":      {table.String(), "185.49ms"},
		"bench":      {bench.String(), "0.3333333333333333 cpu-sec/1k-items"},
		"bench.unit": {bench.String(), "Unit cpu-sec/1k-items better=lower"},
		"json":       {js.String(), `"cpu_seconds_per_1k_items": 0.1854`},
	} {
		if !strings.Contains(want[0], want[1]) {
			t.Errorf("%s lacks %q:\n%s", what, want[1], want[0])
		}
	}
	header, rec := CSVHeader(run), CSVRecord(run, &run.Cells[0])
	for i, h := range header {
		if h == "cpu_seconds_per_1k_items" {
			if !strings.HasPrefix(rec[i], "0.1854") {
				t.Fatalf("csv: %q", rec[i])
			}
			if rec := CSVRecord(run, &run.Cells[2]); rec[i] != "" {
				t.Fatalf("csv of a failed cell: %q, want NULL", rec[i])
			}
			var back Run
			if err := json.Unmarshal(js.Bytes(), &back); err != nil {
				t.Fatal(err) // the new object reads back into the same schema
			}
			return
		}
	}
	t.Fatalf("no csv column in %v", header)
}

func metric(t *testing.T, name string) Metric {
	t.Helper()
	for _, m := range Metrics(&Run{}) {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no metric %s", name)
	return Metric{}
}

// TestScenarioAndSpeedupInterval: the flat files say which scenario a cell
// ran under, and carry the paired speedup's interval where there is one —
// NULL without a paired interval or without a baseline.
func TestScenarioAndSpeedupInterval(t *testing.T) {
	paired := Cell{Status: StatusOK, SpeedupBase: "sequential/batch_size=64", Speedup: 1.25,
		SpeedupInterval: &Summary{Median: 1.25, Lo: 1.2, Hi: 1.31, Confidence: 0.95}}
	unpaired := paired
	unpaired.SpeedupInterval = nil
	noBase := paired
	noBase.SpeedupBase = ""
	tooFew := paired
	tooFew.SpeedupInterval = &Summary{Median: 1.25, Warning: "too few rounds"}
	server := Cell{Status: StatusFailed, Serving: &Serving{}}
	for _, tc := range []struct {
		name             string
		cell             Cell
		scenario, lo, hi any
	}{
		{"paired", paired, "offline", 1.2, 1.31},
		{"sequential schedule", unpaired, "offline", nil, nil},
		{"no baseline", noBase, "offline", nil, nil},
		{"too few rounds", tooFew, "offline", nil, nil},
		{"server cell, even failed", server, "server", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, want := range map[string]any{"scenario": tc.scenario, "speedup_lo": tc.lo, "speedup_hi": tc.hi} {
				if got := metric(t, name).Value(&tc.cell); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		})
	}
	run := sampleRun()
	run.Cells[1].SpeedupInterval = paired.SpeedupInterval
	header, rec := CSVHeader(run), CSVRecord(run, &run.Cells[1])
	got := map[string]string{}
	for i, h := range header {
		got[h] = rec[i]
	}
	if got["scenario"] != "offline" || got["speedup_lo"] != "1.2" || got["speedup_hi"] != "1.31" {
		t.Fatalf("csv: scenario %q, speedup_lo %q, speedup_hi %q", got["scenario"], got["speedup_lo"], got["speedup_hi"])
	}
}

// A closed loop offers no rate: its target and offered QPS are NULL in the
// flat files and "-" in the serving table, never a measured-looking 0.
func TestClosedLoopHasNoOfferedRate(t *testing.T) {
	run := &Run{}
	closed := &Cell{Status: StatusOK, Serving: &Serving{Concurrency: 4, AchievedQPS: 900}}
	open := &Cell{Status: StatusOK, Serving: &Serving{TargetQPS: 100, OfferedQPS: 99.5, AchievedQPS: 99}}
	for _, m := range Metrics(run) {
		if m.Name != "target_qps" && m.Name != "offered_qps" {
			continue
		}
		if v := m.Value(closed); v != nil {
			t.Errorf("%s of a closed loop = %v, want NULL", m.Name, v)
		}
		if v := m.Value(open); v == nil {
			t.Errorf("%s of an open loop is NULL", m.Name)
		}
	}
	for _, c := range ServingColumns(run) {
		if c.Header == "offered/s" {
			if got := c.Text(closed); got != "-" {
				t.Errorf("offered/s of a closed loop = %q, want -", got)
			}
		}
	}
}
