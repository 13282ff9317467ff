package load

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeTrace(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trace.csv")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTraceReplays: at the trace's own rate the schedule is its offsets
// from the first, exactly; at another rate the same shape rescaled; and
// the trace repeats, one mean gap after its end, to meet the minimums.
func TestTraceReplays(t *testing.T) {
	tr, err := ReadTrace(writeTrace(t, "offset_s\n0.5\n0.5\n0.6\n1.5\n"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{time.Second, time.Second, 1200 * time.Millisecond, 3 * time.Second}; !slices.Equal(tr.Offsets, want) {
		t.Fatalf("offsets ×2: %v", tr.Offsets)
	}
	if r := tr.Rate(); r != 1.5 {
		t.Fatalf("rate %g, want 3 arrivals in 2 s", r)
	}
	for _, tc := range []struct {
		rate float64
		want []time.Duration
	}{
		{1.5, []time.Duration{0, 0, 200 * time.Millisecond, 2 * time.Second, 2*time.Second + 2*time.Second/3}},
		{3, []time.Duration{0, 0, 100 * time.Millisecond, time.Second, time.Second + time.Second/3}},
	} {
		p, err := Default().Pacer("trace", Spec{Rate: tc.rate, Trace: &tr})
		if err != nil {
			t.Fatal(err)
		}
		s, err := Schedule(p, 0, 5)
		if err != nil || !slices.Equal(s, tc.want) {
			t.Errorf("at %g/s: %v, %v; want %v", tc.rate, s, err, tc.want)
		}
	}
}

func TestTraceRefuses(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "offset_s\n\n", "no arrivals"},
		{"unsorted", "0\n0.2\n0.1\n", ":3: offset 0.1s is before the line above's"},
		{"negative", "-0.5\n", ":1: offset -0.5s is negative"},
		{"not a number", "0\nsoon\n", `:2: "soon" is not an offset`},
		{"not finite", "0\nNaN\n", `:2: "NaN" is not an offset`},
		{"sizes", "0,4\n", ":1: 2 columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrace(writeTrace(t, tc.text), 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tc.want)
			}
		})
	}
	if _, err := ReadTrace(filepath.Join(t.TempDir(), "none.csv"), 1); err == nil || !strings.Contains(err.Error(), "none.csv: no such file") {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadTrace(writeTrace(t, "0\n"), 0); err == nil || !strings.Contains(err.Error(), "time_scale must be > 0") {
		t.Errorf("time_scale 0: %v", err)
	}
	if _, err := Default().Pacer("trace", Spec{Rate: 1}); err == nil || !strings.Contains(err.Error(), "no trace") {
		t.Errorf("no trace: %v", err)
	}
}
