package procpool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ortbench/ortbench/runner/spawn"
	"github.com/ortbench/ortbench/runner/workload"
)

// ErrTimeout marks a worker that did not answer within its deadline.
var ErrTimeout = errors.New("timed out")

// Client is the parent's end of one worker process. Send and Receive may
// each have their own goroutine; the other methods are used by one
// goroutine at a time, except PID, Interrupt, Kill and Exited, which are
// safe for concurrent use.
type Client struct {
	ID    int
	Ready ReadyMsg

	cmd      *exec.Cmd
	pid      int
	toW      *os.File // tasks out
	fromW    *os.File // results in
	stderr   *tail
	buf      []byte
	enc      *BatchEncoder
	dec      *ResultDecoder
	copyData bool

	interrupted atomic.Bool
	waitOnce    sync.Once
	waited      chan struct{}
	waitErr     error
	state       *os.ProcessState
}

// Spawn starts command (the ortbench binary and its worker subcommand) as
// worker id, sends it start and waits up to timeout for it to be ready.
// The worker dies with the parent (Pdeathsig on Linux).
// Files in extra are passed on as fds 5, 6, … (SharedFD: the shared
// dataset, held open so that its path can be unlinked at once).
func Spawn(ctx context.Context, command []string, start StartMsg, timeout time.Duration, extra ...*os.File) (*Client, error) {
	if len(command) == 0 {
		return nil, errors.New("no worker command: the runner did not say how to start ortbench as a worker")
	}
	taskR, taskW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		_ = taskR.Close()
		_ = taskW.Close()
		return nil, err
	}
	growPipe(taskW)
	growPipe(resR)
	cmd := exec.Command(command[0], command[1:]...)
	cmd.ExtraFiles = append([]*os.File{taskR, resW}, extra...) // fds 3, 4, 5…
	cmd.SysProcAttr = sysProcAttr()
	c := &Client{ID: start.Worker, cmd: cmd, toW: taskW, fromW: resR, stderr: &tail{max: 4 << 10},
		waited: make(chan struct{}), copyData: start.Transport == TransportCopy}
	cmd.Stderr = c.stderr
	err = spawn.Start(cmd) // on the lasting thread: Pdeathsig follows the forking thread
	_ = taskR.Close()
	_ = resW.Close()
	if err != nil {
		_ = taskW.Close()
		_ = resR.Close()
		return nil, fmt.Errorf("worker %d: starting %s: %w", start.Worker, command[0], err)
	}
	c.pid = cmd.Process.Pid
	go c.wait()
	stop := context.AfterFunc(ctx, c.Interrupt)
	defer stop()
	if err := c.handshake(start, timeout); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("worker %d (pid %d): start-up interrupted: %w", c.ID, c.pid, ctx.Err())
		}
		c.Kill()
		return nil, err
	}
	c.enc = NewBatchEncoder(start.Workload.RecordBytes) // header-only tasks with transport shared
	c.dec = NewResultDecoder(c.Ready.Layout, start.BatchSize)
	return c, nil
}

func (c *Client) wait() {
	err := c.cmd.Wait()
	c.waitOnce.Do(func() {
		c.waitErr, c.state = err, c.cmd.ProcessState
		close(c.waited)
	})
}

func (c *Client) handshake(start StartMsg, timeout time.Duration) error {
	if err := c.setDeadline(c.toW, false, timeout); err != nil {
		return err
	}
	if err := c.setDeadline(c.fromW, true, timeout); err != nil {
		return err
	}
	if err := WriteJSON(c.toW, MsgStart, start); err != nil {
		return c.failure("start-up", "sending start", err, timeout)
	}
	t, p, err := c.read()
	if err != nil {
		return c.failure("start-up", "waiting for ready", err, timeout)
	}
	switch t {
	case MsgReady:
		if err := DecodeJSON(p, &c.Ready); err != nil {
			return c.kill(fmt.Errorf("worker %d (pid %d) start-up: %w", c.ID, c.pid, err))
		}
		return nil
	case MsgError:
		return c.kill(fmt.Errorf("worker %d (pid %d) failed to start: %s", c.ID, c.pid, p))
	}
	return c.kill(fmt.Errorf("worker %d (pid %d) start-up: %w", c.ID, c.pid, malformed("got %s, want ready", t)))
}

// PID is the worker's process id.
func (c *Client) PID() int { return c.pid }

func (c *Client) read() (Type, []byte, error) {
	t, p, buf, err := ReadFrame(c.fromW, c.buf)
	c.buf = buf
	return t, p, err
}

// Run sends batch (rows first..first+rows-1; in is their values, sent only
// with transport copy) and decodes the result into out: Send, then Receive.
func (c *Client) Run(batch, first, rows int, in []byte, out *workload.Outputs, timeout time.Duration) (compute time.Duration, err error) {
	if err := c.Send(batch, first, rows, in, timeout); err != nil {
		return 0, err
	}
	return c.Receive(batch, first, rows, out, timeout)
}

// what names a batch for error messages (built only on failure).
func what(batch, first, rows int) string {
	return fmt.Sprintf("batch %d (rows %d..%d)", batch, first, first+rows-1)
}

// setDeadline bounds the next read (or write) on f; an Interrupt that lands
// before or during it wins.
func (c *Client) setDeadline(f *os.File, read bool, timeout time.Duration) error {
	var t time.Time
	if timeout > 0 {
		t = time.Now().Add(timeout)
	}
	var err error
	if read {
		err = f.SetReadDeadline(t)
	} else {
		err = f.SetWriteDeadline(t)
	}
	if err != nil {
		return err
	}
	if c.interrupted.Load() { // checked after setting: see Interrupt
		return context.Canceled
	}
	return nil
}

// Send sends one task, waiting at most timeout for room in the pipe. Send
// and Receive may run in two goroutines (tasks pipelined ahead of results),
// each used by one goroutine at a time. Any failure leaves the worker killed
// and names the worker, why it failed (its exit status or signal, a
// timeout, a malformed message) and the batch it held.
func (c *Client) Send(batch, first, rows int, in []byte, timeout time.Duration) error {
	if err := c.setDeadline(c.toW, false, timeout); err != nil {
		return c.kill(fmt.Errorf("worker %d (pid %d) %s: %w", c.ID, c.pid, what(batch, first, rows), err))
	}
	if !c.copyData {
		in = nil
	}
	frame, err := c.enc.Encode(TaskHeader{Batch: uint32(batch), Rows: uint32(rows), First: uint64(first)}, in)
	if err != nil {
		return c.kill(err)
	}
	if _, err := c.toW.Write(frame); err != nil {
		return c.failure(what(batch, first, rows), "sending the task", err, timeout)
	}
	return nil
}

// Receive waits at most timeout for the result of the oldest task sent,
// which must be batch (rows first..first+rows-1), and decodes it into out.
// It returns the worker's own compute time for the batch.
func (c *Client) Receive(batch, first, rows int, out *workload.Outputs, timeout time.Duration) (time.Duration, error) {
	if err := c.setDeadline(c.fromW, true, timeout); err != nil {
		return 0, c.kill(fmt.Errorf("worker %d (pid %d) %s: %w", c.ID, c.pid, what(batch, first, rows), err))
	}
	t, p, err := c.read()
	if err != nil {
		return 0, c.failure(what(batch, first, rows), "waiting for its result", err, timeout)
	}
	switch t {
	case MsgResult:
	case MsgError:
		return 0, c.kill(fmt.Errorf("worker %d (pid %d) failed on %s: %s", c.ID, c.pid, what(batch, first, rows), p))
	default:
		return 0, c.kill(fmt.Errorf("worker %d (pid %d) on %s: %w", c.ID, c.pid, what(batch, first, rows), malformed("got %s, want result", t)))
	}
	h, body, err := ParseResult(p)
	if err == nil && (int(h.Batch) != batch || int(h.Rows) != rows) {
		err = malformed("result for batch %d of %d rows, want batch %d of %d rows", h.Batch, h.Rows, batch, rows)
	}
	if err == nil {
		err = c.dec.Decode(h, body, first, out)
	}
	if err != nil {
		return 0, c.kill(fmt.Errorf("worker %d (pid %d) on %s: %w", c.ID, c.pid, what(batch, first, rows), err))
	}
	return time.Duration(h.ComputeNS), nil
}

// failure turns an I/O error with the worker into the error the cell
// reports: interrupted, timed out (the worker is killed) or dead (with its
// exit status or signal, and the last of its stderr).
func (c *Client) failure(what, doing string, err error, timeout time.Duration) error {
	switch {
	case c.interrupted.Load():
		c.Kill()
		return fmt.Errorf("worker %d (pid %d) %s: %w", c.ID, c.pid, what, context.Canceled)
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.Kill()
		return fmt.Errorf("worker %d (pid %d) %s: %w after %s %s (task timeout); killed it", c.ID, c.pid, what, ErrTimeout, timeout, doing)
	}
	// The pipe broke: the worker is gone or going. Give it a moment to be
	// reaped, so the error can say how it died.
	select {
	case <-c.waited:
	case <-time.After(2 * time.Second):
		c.Kill()
	}
	msg := fmt.Sprintf("worker %d (pid %d) died (%s) %s; it held %s", c.ID, c.pid, c.exitString(), doing, what)
	if what == "start-up" {
		msg = fmt.Sprintf("worker %d (pid %d) died (%s) during start-up", c.ID, c.pid, c.exitString())
	}
	if s := c.stderr.last(); s != "" {
		msg += "; its last words: " + s
	}
	return errors.New(msg)
}

func (c *Client) exitString() string {
	<-c.waited
	if c.state == nil {
		return fmt.Sprint(c.waitErr)
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %d, %s", int(ws.Signal()), ws.Signal())
	}
	return c.state.String()
}

// kill kills the worker and returns err.
func (c *Client) kill(err error) error {
	c.Kill()
	return err
}

// Interrupt makes any read or write in progress return at once (context
// cancel); the worker is then killed by the method that was waiting.
func (c *Client) Interrupt() {
	c.interrupted.Store(true)
	now := time.Now()
	_ = c.toW.SetWriteDeadline(now)
	_ = c.fromW.SetReadDeadline(now)
}

// Kill SIGKILLs the worker (if still running) and reaps it.
func (c *Client) Kill() {
	select {
	case <-c.waited:
	default:
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.waited
	}
	c.closePipes()
}

func (c *Client) closePipes() {
	_ = c.toW.Close()
	_ = c.fromW.Close()
}

// Stop asks the worker to exit and waits up to grace for it, then kills it.
// It returns an error if the worker did not exit cleanly.
func (c *Client) Stop(grace time.Duration) error {
	_ = c.toW.SetWriteDeadline(time.Now().Add(grace))
	err := WriteFrame(c.toW, MsgStop, nil)
	_ = c.toW.Close() // EOF for a worker that missed the Stop
	select {
	case <-c.waited:
	case <-time.After(grace):
		c.Kill()
		return fmt.Errorf("worker %d (pid %d) did not exit within %s of stop; killed it", c.ID, c.pid, grace)
	}
	c.closePipes()
	if c.dec != nil {
		c.dec.Close()
	}
	if err == nil && c.waitErr != nil {
		err = fmt.Errorf("worker %d (pid %d) exited badly (%s)", c.ID, c.pid, c.exitString())
		if s := c.stderr.last(); s != "" {
			err = fmt.Errorf("%w; its last words: %s", err, s)
		}
	}
	return err
}

// Exited reports whether the worker has been reaped, and then its CPU time
// (user, system seconds) from the kernel's rusage.
func (c *Client) Exited() (user, sys float64, ok bool) {
	select {
	case <-c.waited:
	default:
		return 0, 0, false
	}
	if c.state == nil {
		return 0, 0, true
	}
	return c.state.UserTime().Seconds(), c.state.SystemTime().Seconds(), true
}

// tail keeps the last max bytes written to it (a worker's stderr).
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// last returns the last few non-empty lines, joined.
func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}

var _ io.Writer = (*tail)(nil)
