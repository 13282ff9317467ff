// Package pyproc drives the Python baseline's runner process
// (baselines/python, `python -m ortbench_py.runner`) for the py-*
// strategies: it finds the interpreter, starts one long-lived runner per
// cell in its own process group, speaks the runner's protocol over its stdin
// and stdout, keeps the tail of its stderr to explain a death, and closes
// it (quit, then kill what is left). It knows nothing of strategies,
// workloads or ONNX: runner/strategy's python.go builds the messages and
// says where a pass's arrays go.
//
// Protocol: ortbench writes one JSON object per line ({"op": "start"|"pass"|
// "quit", ...}); Python answers each with one JSON line, and a pass reply is
// followed by raw little-endian arrays whose names, kinds and counts the
// header lists (latency_ns first, then each output in layout order). The full
// description is in baselines/python/ortbench_py/runner.py.
//
// A Runner is driven by one goroutine; Kill and PIDs may be called from
// others.
//
// Note: outputs could have travelled through a file (.npy, Arrow IPC) the
// runner reads after the pass; the pipe was chosen because it needs no temp
// files to clean up after a crash and the bytes land in the caller's slices
// without a copy.
package pyproc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ortbench/ortbench/runner/spawn"
)

// EnvVar names an interpreter to use instead of baselines/python/.venv.
const EnvVar = "ORTBENCH_PYTHON"

// Dir is where the Python baseline lives, relative to the repository root.
const Dir = "baselines/python"

// quitTimeout bounds how long Close waits for the runner (and its pool) to
// exit after "quit" before it kills the process group.
const quitTimeout = 20 * time.Second

// ErrUnavailable marks a failure that is the environment's, not the cell's:
// no baseline, no interpreter, a runner that cannot start, or a runner that
// answers "skip" (a Python package is missing). Errors match it with
// errors.Is; their text does not repeat it.
var ErrUnavailable = errors.New("python unavailable")

type unavailableError struct{ err error }

func (e unavailableError) Error() string        { return e.err.Error() }
func (e unavailableError) Unwrap() error        { return e.err }
func (e unavailableError) Is(target error) bool { return target == ErrUnavailable }

func unavailable(format string, args ...any) error {
	return unavailableError{fmt.Errorf(format, args...)}
}

// Find returns the interpreter and the baseline's directory
// (baselines/python), or an error matching ErrUnavailable that says how to
// create the environment. The directory is searched upwards from the
// working directory and from this executable's; ORTBENCH_PYTHON overrides
// the interpreter.
func Find() (python, dir string, err error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		starts = append(starts, filepath.Dir(exe))
	}
	for _, s := range starts {
		for d := s; ; d = filepath.Dir(d) {
			cand := filepath.Join(d, Dir)
			if _, err := os.Stat(filepath.Join(cand, "ortbench_py", "runner.py")); err == nil {
				dir = cand
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
		if dir != "" {
			break
		}
	}
	if dir == "" {
		return "", "", unavailable("the Python baseline (%s/ortbench_py) was not found above %s", Dir, strings.Join(starts, " or "))
	}
	if p := os.Getenv(EnvVar); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", "", unavailable("%s=%s: %v (unset it to use %s/.venv, made by `make py-env`)", EnvVar, p, err, Dir)
		}
		return found, dir, nil
	}
	python = filepath.Join(dir, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return "", "", unavailable("no Python environment at %s: create it with `make py-env` (or set %s to an interpreter with onnxruntime, numpy and pyarrow)",
			filepath.Join(dir, ".venv"), EnvVar)
	}
	return python, dir, nil
}

// Runner is one runner process and the pipes to it.
type Runner struct {
	cmd    *exec.Cmd
	pid    int // the runner's pid (and process group)
	closed bool
	stdin  io.WriteCloser
	pipe   *os.File // the read end of the runner's stdout
	stdout *bufio.Reader
	stderr *tailWriter
	exited chan struct{} // closed when the process has been waited for
	err    error         // cmd.Wait's result, valid after exited
	ready  Ready
}

// Start starts `python -m ortbench_py.runner` with dir on PYTHONPATH, sends
// msg and waits for the runner to say it is ready (so start-up is the
// interpreter's start, the data load, the sessions and any pool of worker
// processes). On error no process is left behind; a cancelled ctx kills the
// runner and Start returns ctx's error.
func Start(ctx context.Context, python, dir string, msg StartMsg) (*Runner, error) {
	cmd := exec.Command(python, "-m", "ortbench_py.runner")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+joinPath(dir, os.Getenv("PYTHONPATH")))
	cmd.SysProcAttr = sysProcAttr()
	r := &Runner{stderr: &tailWriter{max: 16 << 10}}
	cmd.Stderr = r.stderr
	cmd.WaitDelay = 5 * time.Second // a straggler holding stderr cannot hang Wait
	var err error
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	// Our own pipe, not StdoutPipe: Wait must not close it under a reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = pw
	err = spawn.Start(cmd) // on the lasting thread: Pdeathsig follows the forking thread
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, unavailable("starting %s: %v", python, err)
	}
	r.pipe = pr
	r.stdout = bufio.NewReaderSize(pr, 1<<16)
	r.cmd, r.pid = cmd, cmd.Process.Pid
	r.exited = make(chan struct{})
	go func() {
		r.err = cmd.Wait()
		close(r.exited)
	}()
	var ready Reply
	if err := r.exchange(ctx, msg, &ready, nil); err != nil {
		_ = r.Close()
		return nil, err
	}
	r.ready = ready.Ready
	return r, nil
}

// Ready is what the runner said about itself when it started.
func (r *Runner) Ready() Ready { return r.ready }

// PID is the runner's process id (the leader of its process group).
func (r *Runner) PID() int { return r.pid }

// Pass asks for batches 0..n-1 covering rows rows, checks that the reply
// announces exactly the blocks in want (latency_ns first, then the outputs),
// and reads each block's bytes into the matching dst, which must be
// Count × 8 (int64) or × 4 (float32) bytes long. A cancelled ctx kills the
// runner (a pass cannot be interrupted otherwise) and Pass returns ctx's
// error.
func (r *Runner) Pass(ctx context.Context, n, rows int, want []Block, dst [][]byte) error {
	var reply Reply
	return r.exchange(ctx, struct {
		Op string `json:"op"`
		N  int    `json:"n"`
	}{"pass", n}, &reply, func(h *Reply) error {
		if h.N != n || h.Rows != rows || len(h.Blocks) != len(want) {
			return fmt.Errorf("python runner: pass of %d batches answered with %d batches, %d rows, %d blocks (want %d, %d, %d)",
				n, h.N, h.Rows, len(h.Blocks), n, rows, len(want))
		}
		for i, b := range h.Blocks {
			if b != want[i] {
				return fmt.Errorf("python runner: block %d is %+v, want %+v", i, b, want[i])
			}
		}
		for _, d := range dst {
			if _, err := io.ReadFull(r.stdout, d); err != nil {
				return r.died(err)
			}
		}
		return nil
	})
}

// exchange sends msg, reads the reply's header into h and, if body is set,
// lets it read what follows. A cancelled ctx kills the runner and the call
// returns ctx's error.
func (r *Runner) exchange(ctx context.Context, msg any, h *Reply, body func(*Reply) error) error {
	stop := context.AfterFunc(ctx, r.Kill)
	defer stop()
	err := r.roundTrip(msg, h, body)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (r *Runner) roundTrip(msg any, h *Reply, body func(*Reply) error) error {
	line, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := r.stdin.Write(append(line, '\n')); err != nil {
		return r.died(err)
	}
	head, err := r.stdout.ReadBytes('\n')
	if err != nil {
		return r.died(err)
	}
	if err := json.Unmarshal(head, h); err != nil {
		return fmt.Errorf("python runner: bad reply %.200q: %v", head, err)
	}
	if !h.OK {
		err := fmt.Errorf("python runner: %s", h.Error)
		if h.Traceback != "" {
			err = fmt.Errorf("%w\n%s", err, strings.TrimSpace(h.Traceback))
		}
		if h.Skip {
			err = unavailableError{err}
		}
		return err
	}
	if body != nil {
		return body(h)
	}
	return nil
}

// died explains a broken pipe: the runner's exit status and its last words.
func (r *Runner) died(err error) error {
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
	}
	status := "still running"
	select {
	case <-r.exited:
		status = "exited"
		if r.err != nil {
			status = r.err.Error()
		}
	default:
	}
	msg := fmt.Sprintf("python runner (%s): %v", status, err)
	if tail := strings.TrimSpace(r.stderr.String()); tail != "" {
		msg += "\n" + tail
	}
	return errors.New(msg)
}

// PIDs is the runner process and every process under it (pool workers, the
// forkserver, multiprocessing's resource tracker), so memory and CPU are the
// whole tree's; nil once it has exited or been closed.
func (r *Runner) PIDs() []int {
	if r.closed {
		return nil
	}
	select {
	case <-r.exited:
		return nil
	default:
	}
	return tree(r.pid)
}

// Kill kills the runner's process group. Safe to call from any goroutine.
func (r *Runner) Kill() {
	if r.pid > 0 {
		killTree(r.pid)
	}
}

// Close asks the runner to quit, waits for it (and its pool) to exit, kills
// what is left of its process group after quitTimeout, and removes the
// shared memory a killed runner could not. Closing twice is a no-op.
func (r *Runner) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	select {
	case <-r.exited:
	default:
		done := make(chan error, 1)
		go func() {
			var h Reply
			done <- r.roundTrip(map[string]string{"op": "quit"}, &h, nil)
		}()
		select {
		case err = <-done:
			if err == nil {
				select {
				case <-r.exited:
				case <-time.After(quitTimeout):
					err = fmt.Errorf("python runner did not exit %s after quit; killed", quitTimeout)
				}
			}
		case <-r.exited:
		case <-time.After(quitTimeout):
			err = fmt.Errorf("python runner did not answer quit in %s; killed", quitTimeout)
		}
		if err != nil {
			r.Kill()
		}
	}
	r.stdin.Close()
	r.Kill() // stragglers in the group; the leader has exited or is killed
	<-r.exited
	r.pipe.Close()
	removeShared(r.pid)
	return err
}

// removeShared deletes the shared-memory blocks a runner that was killed
// could not unlink (the runner names them ortbench-PID-K).
func removeShared(pid int) {
	leftover, _ := filepath.Glob(fmt.Sprintf("/dev/shm/ortbench-%d-*", pid))
	for _, f := range leftover {
		_ = os.Remove(f)
	}
}

func joinPath(a, b string) string {
	if b == "" {
		return a
	}
	return a + string(os.PathListSeparator) + b
}

// tailWriter keeps the last max bytes written to it. Safe for concurrent use.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
