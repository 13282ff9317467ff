package main

import (
	"strings"
	"testing"
)

// TestTuneBadInput: a missing config, a zero budget, impossible
// constraints and an empty space are one-line errors (exit 2), found
// before anything is measured.
func TestTuneBadInput(t *testing.T) {
	base := strings.Replace(good, "strategies:\n  - strategy: sequential\n", "", 1)
	for _, tc := range []struct {
		name, body string
		args       []string
		want       string
	}{
		{"no config", "", nil, "tune needs -c FILE"},
		{"budget flag", base, []string{"--budget", "0s"}, "--budget must be > 0"},
		{"budget key", base + "tune: {budget: 0s}\n", nil, "tune: budget must be > 0"},
		{"max_cores", base + "tune: {max_cores: 0.5}\n", nil, "max_cores 0.5 is impossible: every point keeps at least 1 core busy"},
		{"max_p99", base + "tune: {max_p99: fast}\n", nil, "tune.max_p99: time: invalid duration"},
		{"unknown key", base + "tune: {max_p99: 1ms, budgets: 1m}\n", nil, "unknown key budgets"},
		{"empty space", base + "tune: {strategies: []}\n", nil, "the space is empty: tune.strategies has no values"},
		{"too few cores", base + "tune: {strategies: [hybrid], workers: [64], threads: [64]}\n", nil, "the space is empty: every point needs more than"},
		{"unknown strategy", base + "tune: {strategies: [warp-drive]}\n", nil, `unknown strategy "warp-drive"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"tune", "-q"}
			if tc.body != "" {
				args = append(args, "-c", writeConfig(t, tc.body))
			}
			code, _, errs := cli(t, append(args, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code != exitInvalid || len(lines) != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and one line containing %q", code, errs, exitInvalid, tc.want)
			}
		})
	}
}
