package tune

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner/config"
)

// moduleVersion is the version of mod required by the repository's go.mod.
func moduleVersion(t *testing.T, mod string) string {
	t.Helper()
	f, err := os.Open("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == mod {
			return fs[1]
		}
	}
	t.Fatalf("go.mod does not require %s", mod)
	return ""
}

// TestSessionSnippetCompiles: the emitted Go snippet builds against
// onnxruntime_go at the version of our go.mod, offline from the module
// cache, for every kind of point.
func TestSessionSnippetCompiles(t *testing.T) {
	const mod = "github.com/yalue/onnxruntime_go"
	version := moduleVersion(t, mod)
	gomodcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env: %v", err)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(gomodcache)), "github.com", "yalue", "onnxruntime_go@"+version)); err != nil {
		t.Skipf("the module cache lacks %s@%s (the test builds offline): %v", mod, version, err)
	}
	sum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	var sums []string
	for _, line := range strings.Split(string(sum), "\n") {
		if strings.HasPrefix(line, mod+" "+version) {
			sums = append(sums, line)
		}
	}
	c := &config.Config{Name: "mlp", Session: config.Session{GraphOptimization: "all", MemoryArena: true, MemoryPattern: true}}
	dir := t.TempDir()
	for i, p := range []Point{
		pt(t, "hybrid", "workers", 2, "threads", 2, "batch_size", 64, "spinning", true, "affinity", true),
		pt(t, "goroutines", "workers", 4, "threads", 1, "batch_size", 256),
		pt(t, "intra-op", "threads", 2, "batch_size", 1, "affinity", true),
	} {
		src, err := SessionSnippet(regSpace(t).Registry, NewOrigin(c, regSpace(t)), Recommendation{Objective: ObjectiveThroughput, Point: p, RowsPerSecond: 1e6, P99: 1e-3})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		pkg := filepath.Join(dir, "tuned"+string(rune('a'+i)))
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "options.go"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		if on(p, "affinity") && p.Shape.Threads > 1 && !strings.Contains(string(src), "session.intra_op_thread_affinities") {
			t.Errorf("%s: no affinity in\n%s", p, src)
		}
	}
	// A server winner: the batcher, with its batch bound and wait.
	srv := *c
	srv.Load = config.LoadSection{Scenario: config.ScenarioServer, RequestRows: 1, SLO: config.SLO{Percentile: 99, Latency: 20 * time.Millisecond}}
	for i, p := range []Point{
		pt(t, "batcher", "workers", 2, "threads", 1, "max_batch", 16, "max_delay", time.Millisecond),
		pt(t, "intra-op", "threads", 2, "spinning", true),
	} {
		src, err := SessionSnippet(regSpace(t).Registry, NewOrigin(&srv, regSpace(t)), Recommendation{Objective: ObjectiveMaxQPS, Point: p, MaxQPS: 3000})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		pkg := filepath.Join(dir, "server"+string(rune('a'+i)))
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "options.go"), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := "module tunedcheck\n\ngo 1.22\n\nrequire " + mod + " " + version + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), []byte(strings.Join(sums, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the snippet: %v\n%s", err, out)
	}
}

// regSpace is a space over the real registry (what the outputs read of it:
// its strategies' configs and the batch key).
func regSpace(t *testing.T) *Space {
	t.Helper()
	return bigSpace(t)
}

// TestWinnerConfig: the winner is the config without its tune section,
// one strategy entry, the config's own output folder.
func TestWinnerConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.yaml")
	data := []byte("workload: {model: m.onnx, dataset: {path: d.parquet}}\noutput: {dir: " + dir + "/res}\ntune: {max_p99: 1ms}\nstrategies: [{strategy: sequential}]\n")
	c, err := config.Load(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := WinnerConfig(NewOrigin(c, regSpace(t)), Recommendation{Objective: ObjectiveThroughput, Point: pt(t, "goroutines", "workers", 2, "threads", 1, "batch_size", 64)}, &Result{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := config.Load(path, got, nil)
	if err != nil {
		t.Fatalf("winner config does not load: %v\n%s", err, got)
	}
	if again.Tune != nil || len(again.Strategies) != 1 || again.Strategies[0]["strategy"] != "goroutines" || again.Output.Dir != dir+"/res" || again.Name != "t-tuned" {
		t.Errorf("winner config:\n%s", got)
	}
}
