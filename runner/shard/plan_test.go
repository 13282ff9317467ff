package shard

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/strategy"
)

// testPlan expands a heavy-task sweep (no model needed): 3 batch sizes ×
// (sequential + 2 goroutines + 2 worker-pool + 1 processes) = 18 cells.
func testPlan(t *testing.T) *config.Plan {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.yaml")
	body := `
name: split
workload: {kind: heavy-task, items: 64, cost: 10}
batch_sizes: [8, 16, 32]
strategies:
  - strategy: sequential
  - strategy: goroutines
    workers: [2, 4]
  - strategy: worker-pool
    workers: [2, 4]
  - strategy: processes
    workers: [2]
`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := config.Expand(cfg, strategy.Default(), config.Machine{LogicalCores: 4, PhysicalCores: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Cells) != 18 {
		t.Fatalf("%d cells", len(plan.Cells))
	}
	return plan
}

// TestSplit: for every n, the shards' own cells partition the plan, each
// shard runs the baselines its cells need (and only those) as support
// copies, every shard lists the same plan and hash, and the split is
// deterministic.
func TestSplit(t *testing.T) {
	plan := testPlan(t)
	reg := strategy.Default()
	for n := 1; n <= 20; n++ {
		owner := map[string]int{}
		for i := 1; i <= n; i++ {
			part, err := Split(plan, reg, i, n)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Split(plan, reg, i, n)
			if !reflect.DeepEqual(part.Info, again.Info) || !reflect.DeepEqual(part.Support, again.Support) || len(part.Plan.Cells) != len(again.Plan.Cells) {
				t.Fatalf("%d/%d: not deterministic", i, n)
			}
			if len(part.Info.Cells) != len(plan.Cells) || part.Info.ConfigSHA256 == "" {
				t.Fatalf("%d/%d: info %+v", i, n, part.Info)
			}
			haveBase := map[int]bool{}
			own := 0
			for _, c := range part.Plan.Cells {
				if c.Strategy == "sequential" {
					haveBase[c.Params.Int("batch_size")] = true
				}
				if part.Support[c.Name] {
					if c.Strategy != "sequential" {
						t.Errorf("%d/%d: support copy %s is not a baseline", i, n, c.Name)
					}
					continue
				}
				own++
				if prev, dup := owner[c.Name]; dup {
					t.Errorf("%d/%d: %s also owned by shard %d", i, n, c.Name, prev)
				}
				owner[c.Name] = i
			}
			if own != part.Own {
				t.Errorf("%d/%d: Own %d, counted %d", i, n, part.Own, own)
			}
			for _, c := range part.Plan.Cells {
				if !haveBase[c.Params.Int("batch_size")] {
					t.Errorf("%d/%d: %s runs without its baseline", i, n, c.Name)
				}
			}
			// Support copies are needed: a shard owning only sequential cells has none.
			for name := range part.Support {
				needed := false
				for _, c := range part.Plan.Cells {
					if !part.Support[c.Name] && c.Strategy != "sequential" {
						for _, b := range part.Plan.Cells {
							if b.Name == name && b.Params.Int("batch_size") == c.Params.Int("batch_size") {
								needed = true
							}
						}
					}
				}
				if !needed {
					t.Errorf("%d/%d: support copy %s is needed by no cell of the shard", i, n, name)
				}
			}
		}
		if len(owner) != len(plan.Cells) {
			t.Errorf("n=%d: %d of %d cells owned", n, len(owner), len(plan.Cells))
		}
	}
	if _, err := Split(plan, reg, 3, 2); err == nil {
		t.Error("Split 3/2: no error")
	}
}

func TestCost(t *testing.T) {
	plan := testPlan(t)
	want := map[string]float64{"sequential": 2, "goroutines": 1, "worker-pool": 1, "processes": 2}
	for _, c := range plan.Cells {
		if got := Cost(c); got != want[c.Strategy] {
			t.Errorf("Cost(%s) = %g, want %g", c.Name, got, want[c.Strategy])
		}
	}
}

// TestConfigSHA256 leaves out output.dir and the library path, and nothing else.
func TestConfigSHA256(t *testing.T) {
	a := testPlan(t).Config
	b := *a
	b.Output.Dir, b.ONNXRuntime.Library = "/elsewhere", "/opt/ort/libonnxruntime.so"
	b.SetLibrary("")
	if b.SHA256 == a.SHA256 || ConfigSHA256(&b) != ConfigSHA256(a) {
		t.Errorf("output.dir and the library changed the shard hash (or did not change the config's)")
	}
	c := *a
	c.Repetitions++
	c.SetLibrary("")
	if ConfigSHA256(&c) == ConfigSHA256(a) {
		t.Error("repetitions did not change the shard hash")
	}
	if before := a.SHA256; ConfigSHA256(a) != "" && a.SHA256 != before {
		t.Error("ConfigSHA256 changed its argument")
	}
}
