package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const serverBase = `
name: t
workload:
  model: m.onnx
  dataset:
    path: d.parquet
load:
  scenario: server
  arrival: poisson
  qps: [100, 200]
  duration: 2s
  slo: {percentile: 99, latency: 20ms}
strategies:
  - strategy: sequential
  - strategy: batcher
    workers: 2
    max_batch: 4
    max_delay: 500us
`

func TestLoadSectionDecodes(t *testing.T) {
	p, err := plan(t, serverBase)
	if err != nil {
		t.Fatal(err)
	}
	l := p.Config.Load
	if !l.Server() || !l.HasSLO() || l.Pattern() != ArrivalPoisson || len(l.QPS) != 2 || l.QPS[1] != 200 ||
		l.RequestRows != 1 || l.Duration != 2*time.Second || l.SLO.Latency != 20*time.Millisecond || l.SLO.Percentile != 99 {
		t.Fatalf("load section: %+v", l)
	}
	if got := p.Cells[1].Name; got != "batcher/workers=2/max_batch=4/max_delay=500µs/batch_size=1" {
		t.Errorf("batcher cell name %q", got)
	}
	// A list of arrivals: each entry its own, the first the section's pattern.
	p, err = plan(t, strings.Replace(serverBase, "arrival: poisson", "arrival: [gamma, poisson]\n  shape: 0.25", 1))
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Config.Load; strings.Join(l.Arrivals(), ",") != "gamma,poisson" || l.Pattern() != ArrivalGamma || l.For("poisson").Pattern() != ArrivalPoisson {
		t.Errorf("arrival list: %v, pattern %s", l.Arrivals(), l.Pattern())
	}
	// A closed loop beside the open one, and a cap on the open one.
	p, err = plan(t, strings.Replace(serverBase, "duration: 2s", "duration: 2s\n  concurrency: [1, 8]\n  max_in_flight: 16", 1))
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Config.Load; len(l.Concurrency) != 2 || l.Concurrency[1] != 8 || l.MaxInFlight != 16 || len(l.QPS) != 2 {
		t.Errorf("closed loop and cap: %+v", l)
	}
	// Stages: a rate and a ramp, with a cap.
	p, err = plan(t, strings.Replace(serverBase, "qps: [100, 200]", "max_in_flight: 8\n  stages:\n    - {qps: 200, duration: 10s}\n    - {qps: [200, 800], duration: 20s}", 1))
	if err != nil {
		t.Fatal(err)
	}
	st := p.Config.Load.LoadStages()
	if len(st) != 2 || st[0].From != 200 || st[0].To != 200 || st[1].From != 200 || st[1].To != 800 || st[1].Duration != 20*time.Second {
		t.Errorf("stages: %+v", st)
	}
	// Offline stays the default.
	p, err = plan(t, base)
	if err != nil {
		t.Fatal(err)
	}
	if p.Config.Load.Server() || p.Config.Load.Scenario != ScenarioOffline {
		t.Errorf("default scenario %q", p.Config.Load.Scenario)
	}
}

// TestLoadSectionErrors: each bad input is one line naming file:line and key.
func TestLoadSectionErrors(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"qps zero", "qps: [100, 200]", "qps: [100, 0]", "x.yaml:10: load.qps[1]: must be > 0"},
		{"qps negative", "qps: [100, 200]", "qps: -5", "load.qps[0]: must be > 0"},
		{"slo offline", "scenario: server", "scenario: offline", "load.slo: an SLO needs server load"},
		{"max_delay negative", "max_delay: 500us", "max_delay: -1ms", "x.yaml:18: strategies[1].max_delay: batcher/workers=2/max_batch=4/max_delay=-1ms/batch_size=1: must be ≥ 0"},
		{"arrival", "arrival: poisson", "arrival: bursty", "x.yaml:9: load.arrival: \"bursty\" is not a load pattern (valid: constant, gamma, poisson, trace)"},
		{"gamma shape zero", "arrival: poisson", "arrival: gamma\n  shape: 0", "load.shape: gamma: shape must be > 0"},
		{"gamma shape negative", "arrival: poisson", "arrival: gamma\n  shape: -2", "load.shape: gamma: shape must be > 0"},
		{"trace missing", "arrival: poisson", "arrival: trace\n  trace: none.csv", "none.csv: no such file"},
		{"trace not given", "arrival: poisson", "arrival: trace", "load.trace: arrival: trace needs load.trace"},
		{"trace without arrival", "arrival: poisson", "arrival: poisson\n  trace: t.csv", "load.trace: a trace (and time_scale) needs arrival: trace"},
		{"time_scale without trace", "arrival: poisson", "arrival: poisson\n  time_scale: 2", "load.trace: a trace (and time_scale) needs arrival: trace"},
		{"records too many", "qps: [100, 200]", "qps: [100, 10000000]\n  records: true", "load.records: a load of ~20000000 requests would hold 1526 MB"},
		{"records offline", "scenario: server", "scenario: offline\n  records: true", "load.records: records are per request"},
		{"arrival list unknown", "arrival: poisson", "arrival: [poisson, bursty]", "x.yaml:9: load.arrival[1]: \"bursty\" is not a load pattern"},
		{"arrival list repeated", "arrival: poisson", "arrival: [gamma, poisson, gamma]\n  shape: 0.5", "x.yaml:9: load.arrival[2]: gamma repeats load.arrival[0]"},
		{"arrival list empty", "arrival: poisson", "arrival: []", "x.yaml:9: load.arrival: an empty list serves nothing"},
		{"arrival list trace missing", "arrival: poisson", "arrival: [poisson, trace]", "load.trace: arrival: trace needs load.trace"},
		{"arrival list shape without gamma", "arrival: poisson", "arrival: [poisson, constant]\n  shape: 0.5", "load.shape: shape 0.5 shapes gamma arrivals only (load.arrival is poisson, constant)"},
		{"arrival list gamma shape zero", "arrival: poisson", "arrival: [poisson, gamma]\n  shape: 0", "load.shape: gamma: shape must be > 0"},
		{"arrival list closed only", "arrival: poisson\n  qps: [100, 200]", "arrival: [poisson, constant]\n  concurrency: [1, 2]", "load.arrival: a list compares open-loop arrivals"},
		{"shape without gamma", "arrival: poisson", "arrival: poisson\n  shape: 0.5", "load.shape: shape 0.5 shapes gamma arrivals only"},
		{"scenario", "scenario: server", "scenario: online", "load.scenario: \"online\": want offline"},
		{"nothing to offer", "  qps: [100, 200]\n  duration: 2s\n  slo: {percentile: 99, latency: 20ms}\n", "", "load.qps: server load needs qps"},
		{"percentile", "percentile: 99", "percentile: 100", "load.slo.percentile: must be above 0 and below 100"},
		{"request rows", "duration: 2s", "duration: 2s\n  request_rows: 0", "load.request_rows: must be ≥ 1"},
		{"duration unit", "duration: 2s", "duration: 2", "load.duration"},
		{"qps repeated", "qps: [100, 200]", "qps: [200, 200]", "x.yaml:10: load.qps[1]: 200 repeats load.qps[0]"},
		{"concurrency repeated", "duration: 2s", "duration: 2s\n  concurrency: [4, 4]", "load.concurrency[1]: 4 repeats load.concurrency[0]"},
		{"concurrency zero", "duration: 2s", "duration: 2s\n  concurrency: [0, 2]", "load.concurrency[0]: must be ≥ 1 and at most 4096 clients, got 0"},
		{"concurrency too many", "duration: 2s", "duration: 2s\n  concurrency: 5000", "load.concurrency[0]: must be ≥ 1 and at most 4096 clients, got 5000"},
		{"cap negative", "duration: 2s", "duration: 2s\n  max_in_flight: -3", "load.max_in_flight: must be ≥ 1"},
		{"cap closed only", "qps: [100, 200]", "concurrency: [1, 2]\n  max_in_flight: 4", "load.max_in_flight: caps the open loop"},
		{"slo without latency", "slo: {percentile: 99, latency: 20ms}", "slo: {percentile: 99}", "x.yaml:12: load.slo: an slo needs latency"},
		{"concurrency offline", "scenario: server", "scenario: offline\n  concurrency: 2", "load.concurrency: concurrency needs server load"},
		{"stages duration zero", "qps: [100, 200]", "stages: [{qps: 100, duration: 0s}]", "x.yaml:10: load.stages[0].duration: must be > 0"},
		{"stages duration negative", "qps: [100, 200]", "stages:\n    - {qps: 100, duration: 1s}\n    - {qps: 100, duration: -1s}", "x.yaml:12: load.stages[1].duration: must be > 0"},
		{"stages qps missing", "qps: [100, 200]", "stages: [{duration: 1s}]", "load.stages[0].qps: missing"},
		{"stages qps zero", "qps: [100, 200]", "stages: [{qps: 0, duration: 1s}]", "load.stages[0].qps: must be > 0"},
		{"stages ramp negative", "qps: [100, 200]", "stages: [{qps: [100, -5], duration: 1s}]", "load.stages[0].qps: a ramp's rates must be ≥ 0"},
		{"stages ramp of three", "qps: [100, 200]", "stages: [{qps: [1, 2, 3], duration: 1s}]", "load.stages[0].qps: 3 values"},
		{"stages ramp zero", "qps: [100, 200]", "stages: [{qps: [0, 0], duration: 1s}]", "load.stages[0].qps: a ramp from 0 to 0"},
		{"stages with qps", "qps: [100, 200]", "qps: 100\n  stages: [{qps: 100, duration: 1s}]", "load.stages: stages are one load of their own rates"},
		{"stages unknown key", "qps: [100, 200]", "stages: [{qps: 100, duration: 1s, ramp: true}]", "ramp"},
		{"stages too many", "qps: [100, 200]", "stages: [{qps: 1000000, duration: 2m}]", "load.stages: the stages' ~120000000 requests would hold"},
		{"stages records too many", "qps: [100, 200]", "records: true\n  stages: [{qps: 1000000, duration: 20s}]", "load.records: the stages' ~20000000 requests would hold 1526 MB (80 bytes each)"},
		{"stages offline", "scenario: server", "scenario: offline\n  stages: [{qps: 100, duration: 1s}]", "load.stages: stages are server load"},
		{"no serving side", "- strategy: sequential", "- strategy: pipeline", "strategies[0].strategy: pipeline has no serving side yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := strings.Replace(serverBase, tc.from, tc.to, 1)
			if yaml == serverBase {
				t.Fatalf("%q not in the base config", tc.from)
			}
			_, err := plan(t, yaml)
			if err == nil {
				t.Fatal("no error")
			}
			var line string
			for _, l := range strings.Split(err.Error(), "\n") {
				if strings.Contains(l, tc.want) {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("error lacks %q:\n%v", tc.want, err)
			}
			if !strings.HasPrefix(line, "x.yaml:") {
				t.Errorf("not located: %q", line)
			}
		})
	}
	// The batcher without server load.
	yaml := strings.Replace(serverBase, "scenario: server", "scenario: offline", 1)
	yaml = strings.Replace(yaml, "  slo: {percentile: 99, latency: 20ms}\n", "", 1)
	yaml = strings.Replace(yaml, "  qps: [100, 200]\n", "", 1)
	if _, err := plan(t, yaml); err == nil || !strings.Contains(err.Error(), "strategies[1].strategy: batcher serves requests only") {
		t.Errorf("batcher offline: %v", err)
	}
}

// TestTraceSizesChecked: a trace's sizes must fit workload.rows, and
// request_rows stays 1 beside them.
func TestTraceSizesChecked(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "sized.csv")
	if err := os.WriteFile(trace, []byte("offset_seconds,rows\n0,4\n0.01,64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(serverBase, "arrival: poisson", "arrival: trace\n  trace: "+trace, 1)
	yaml = strings.Replace(yaml, "  dataset:", "  rows: 100\n  dataset:", 1)
	if _, err := plan(t, yaml); err != nil {
		t.Fatalf("sizes within the dataset: %v", err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"rows: 100", "rows: 50", "load.trace: a request of 64 rows, but workload.rows uses only 50"},
		{"duration: 2s", "duration: 2s\n  request_rows: 2", "load.request_rows: the trace gives each request's rows"},
	} {
		_, err := plan(t, strings.Replace(yaml, tc.from, tc.to, 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.to, err, tc.want)
		}
	}
}
