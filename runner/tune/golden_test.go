package tune

import (
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/ortbench/ortbench/internal/golden"
	"github.com/ortbench/ortbench/runner/strategy"
)

// The golden tests of tune's outputs: the terminal summary, the
// points' CSV and the checkpoint tune.json of a search over a synthetic surface (exact, so the
// search is deterministic), offline and under server load. What would vary
// between runs of a real tune — times, hosts, paths — is normalised away
// (normaliseState). After an intended change,
//
//	go test ./runner/tune -run Golden -update
//
// rewrites testdata/golden; review the diff before committing it.

func TestGolden(t *testing.T) {
	// The strategies are named, so that a strategy tune newly tries by
	// default changes the derived spaces, not these files.
	offline := DefaultSettings()
	offline.Budget = time.Hour
	offline.StrategyNames = []string{"intra-op", "worker-pool", "hybrid", "goroutines"}
	server := serverSettings(t, map[string]any{"strategies": []any{"intra-op", "worker-pool", "hybrid", "goroutines", "batcher"}})
	server.Budget = time.Hour
	for _, tc := range []struct {
		name string
		sp   *Space
		set  Settings
		m    Measurer
	}{
		{"offline", deriveBig(t, offline), offline, &surface{overhead: 20e-6, perRow: 2e-6, rng: rand.New(rand.NewPCG(1, 1))}},
		{"server", serverSpace(t, server), server, &serving{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := runTune(t, tc.sp, tc.set, tc.m, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var sum strings.Builder
			Summary(&sum, st)
			golden(t, tc.name+".summary.txt", sum.String())
			data, err := marshalState(st)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".tune.json", normaliseState(string(data)))
			if _, err := unmarshalState(data); err != nil {
				t.Errorf("the checkpoint does not read back: %v", err)
			}
			var points strings.Builder
			if err := PointsTable(st).WriteCSV(&points); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".tune-points.csv", points.String())
		})
	}
}

var (
	timeField    = regexp.MustCompile(`"(at|started_at)": "[^"]*"`)
	secondsField = regexp.MustCompile(`"seconds": [0-9.e+-]+`)
	pathLike     = regexp.MustCompile(`"/[^"]*"`) // an absolute path as a JSON string
)

// normaliseState replaces what differs between two runs of the same
// search: the clock's readings, measuring seconds and any absolute path.
func normaliseState(s string) string {
	s = timeField.ReplaceAllString(s, `"$1": "TIME"`)
	s = secondsField.ReplaceAllString(s, `"seconds": SECONDS`)
	return pathLike.ReplaceAllString(s, `"PATH"`)
}

// golden compares got with testdata/golden/name, or rewrites it under
// -update (internal/golden).
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got)
}

// deriveBig is set's space on bigSpace's machine.
func deriveBig(t *testing.T, set Settings) *Space {
	t.Helper()
	sp, err := set.Derive(Machine{LogicalCores: 16, PhysicalCores: 8, Rows: 100000, Registry: strategy.Default(), NeedsORT: true})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}
