package pyproc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/runner/procfs"
)

// fakeRunner is a shell script that plays the Python runner's side of the
// protocol, as $FAKE says: "ok" (start, one pass of 2 batches and 3 rows,
// quit), "skip" (a missing package) or "die" (exit with last words).
const fakeRunner = `#!/bin/sh
read line
case "$FAKE" in
skip) echo '{"ok":false,"op":"start","error":"no module named onnxruntime","skip":true}'; read line; echo '{"ok":true,"op":"quit"}';;
die) echo 'Traceback: boom' >&2; exit 3;;
*) echo '{"ok":true,"op":"start","pid":'$$',"python":{"implementation":"CPython","version":"3.12.0"}}'
   read line
   echo '{"ok":true,"op":"pass","n":2,"rows":3,"blocks":[{"name":"latency_ns","kind":"int64","count":2},{"name":"y","kind":"float32","count":3}]}'
   printf '\001\000\000\000\000\000\000\000\002\000\000\000\000\000\000\000'
   printf '\000\000\200\077\000\000\000\100\000\000\100\100'
   read line
   echo '{"ok":true,"op":"quit"}';;
esac
`

func fake(t *testing.T, mode string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	p := filepath.Join(t.TempDir(), "python")
	if err := os.WriteFile(p, []byte(fakeRunner), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE", mode)
	return p
}

func start(mode string) StartMsg {
	return StartMsg{Op: "start", Strategy: "py-" + mode, Workload: Workload{Kind: "heavy-task", Rows: 3, Width: 1}}
}

func TestRunnerPass(t *testing.T) {
	py := fake(t, "ok")
	r, err := Start(context.Background(), py, t.TempDir(), start("ok"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready().PID != r.PID() || r.Ready().Python.Implementation != "CPython" {
		t.Errorf("ready: %+v, pid %d", r.Ready(), r.PID())
	}
	if pids := r.PIDs(); len(pids) == 0 || pids[0] != r.PID() {
		t.Errorf("PIDs: %v", pids)
	}
	lat, y := make([]int64, 2), make([]float32, 3)
	want := []Block{{"latency_ns", "int64", 2}, {"y", "float32", 3}}
	if err := r.Pass(context.Background(), 2, 3, want, [][]byte{raw.Bytes(lat), raw.Bytes(y)}); err != nil {
		t.Fatal(err)
	}
	if lat[0] != 1 || lat[1] != 2 || y[0] != 1 || y[1] != 2 || y[2] != 3 {
		t.Fatalf("read latencies %v, outputs %v", lat, y)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.PIDs() != nil || procfs.Alive(r.PID()) {
		t.Error("the runner outlived Close")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRunnerBlockMismatch(t *testing.T) {
	py := fake(t, "ok")
	r, err := Start(context.Background(), py, t.TempDir(), start("ok"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lat, y := make([]int64, 2), make([]float32, 3)
	err = r.Pass(context.Background(), 2, 3, []Block{{"latency_ns", "int64", 2}, {"y", "int64", 3}}, [][]byte{raw.Bytes(lat), raw.Bytes(y)})
	if err == nil || !strings.Contains(err.Error(), "block 1") {
		t.Fatalf("Pass: %v, want a block mismatch", err)
	}
}

func TestRunnerSkipAndDeath(t *testing.T) {
	py := fake(t, "skip")
	_, err := Start(context.Background(), py, t.TempDir(), start("skip"))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no module named onnxruntime") || strings.Contains(err.Error(), "unavailable") {
		t.Fatalf("skip reply: %v", err)
	}
	py = fake(t, "die")
	_, err = Start(context.Background(), py, t.TempDir(), start("die"))
	if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "Traceback: boom") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("a dead runner: %v, want its exit status and stderr", err)
	}
	_, err = Start(context.Background(), filepath.Join(t.TempDir(), "no-python"), t.TempDir(), start("x"))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no interpreter: %v", err)
	}
}

func TestFindSaysHow(t *testing.T) {
	t.Setenv(EnvVar, filepath.Join(t.TempDir(), "no-such-python"))
	if _, _, err := Find(); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), EnvVar) {
		t.Fatalf("missing interpreter: %v", err)
	}
	t.Setenv(EnvVar, "")
	t.Chdir(t.TempDir())
	if _, _, err := Find(); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), Dir) {
		t.Fatalf("missing baseline: %v", err)
	}
}

func TestTailWriter(t *testing.T) {
	w := &tailWriter{max: 8}
	w.Write([]byte("0123456789"))
	w.Write([]byte("ab"))
	if got := w.String(); got != "456789ab" {
		t.Fatalf("tail %q", got)
	}
}
