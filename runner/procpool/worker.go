package procpool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// Worker fds: what Spawn passes as ExtraFiles.
const (
	TaskFD   = 3 // tasks in
	ResultFD = 4 // results out
	SharedFD = 5 // the shared dataset, when the parent passes it open
)

// SharedFDPath is the StartMsg.SharedPath that names the file passed as
// SharedFD (Linux): the parent can unlink the file as soon as it is written,
// and no crash, not even a SIGKILL of every process, leaves it behind in
// /dev/shm, where it would hold its size in RAM.
var SharedFDPath = fmt.Sprintf("/proc/self/fd/%d", SharedFD)

// ServeFDs is the worker process's main: Serve over fds 3 and 4.
func ServeFDs() error {
	in := os.NewFile(TaskFD, "tasks")
	out := os.NewFile(ResultFD, "results")
	for _, f := range []*os.File{in, out} {
		if st, err := f.Stat(); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
			return errors.New("worker: fds 3 and 4 are not the pipes a parent ortbench passes; this subcommand is started by `ortbench run` (strategy processes), not by hand")
		}
	}
	defer in.Close()
	defer out.Close()
	return Serve(in, out)
}

// Serve runs the worker side of the protocol until Stop (nil), the end of
// the task stream (the parent is gone: io.EOF) or an error. Any error is
// also sent to the parent as an Error message before Serve returns it, so a
// malformed message fails loudly on both sides.
func Serve(in io.Reader, out io.Writer) (err error) {
	s := &server{out: out}
	defer s.close()
	if err = s.serve(in); err != nil && !errors.Is(err, io.EOF) {
		_ = WriteFrame(out, MsgError, []byte(err.Error()))
	}
	return err
}

type server struct {
	out    io.Writer
	start  StartMsg
	x      *workload.BatchExecutor
	shared *Shared
	// replica is the whole dataset, loaded by this worker (transport
	// replicate).
	replica []byte
	bdec    *BatchDecoder
	renc    *ResultEncoder
	outs    *workload.Outputs
	buf     []byte
}

func (s *server) serve(in io.Reader) error {
	t0 := time.Now()
	t, p, buf, err := ReadFrame(in, nil)
	s.buf = buf
	if err != nil {
		return fmt.Errorf("worker: reading start: %w", err)
	}
	if t != MsgStart {
		return malformed("worker: first message is %s, want start", t)
	}
	if err := DecodeJSON(p, &s.start); err != nil {
		return err
	}
	if err := s.open(); err != nil {
		return err
	}
	ready := ReadyMsg{PID: os.Getpid(), Layout: s.x.Layout(), StartupSeconds: time.Since(t0).Seconds()}
	if err := WriteJSON(s.out, MsgReady, ready); err != nil {
		return err
	}
	for {
		t, p, s.buf, err = ReadFrame(in, s.buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF // the parent is gone
			}
			return fmt.Errorf("worker %d: %w", s.start.Worker, err)
		}
		switch t {
		case MsgTask:
			if err := s.task(p); err != nil {
				return fmt.Errorf("worker %d: %w", s.start.Worker, err)
			}
		case MsgStop:
			return nil
		default:
			return malformed("worker %d: unexpected %s message", s.start.Worker, t)
		}
	}
}

func (s *server) open() error {
	m := &s.start
	if err := m.Check(); err != nil {
		return malformed("%v", err)
	}
	if m.Workload.Kind == "onnx" {
		if _, _, err := onnx.Init(m.Library); err != nil {
			return err
		}
	}
	x, err := m.Workload.Open(m.Options, workload.RowCounts(m.Rows, m.BatchSize)...)
	if err != nil {
		return err
	}
	s.x = x
	switch m.Transport {
	case TransportShared:
		if s.shared, err = OpenShared(m.SharedPath, m.Rows, m.Workload.RecordBytes); err != nil {
			return err
		}
	case TransportReplicate:
		if s.replica, err = m.Workload.LoadData(m.Rows); err != nil {
			return fmt.Errorf("worker %d: loading its own copy of the dataset: %w", m.Worker, err)
		}
		// Only the copy stays: the decoder's garbage goes back to the OS, as
		// the runner's does before it measures.
		debug.FreeOSMemory()
	default:
		s.bdec = NewBatchDecoder(m.Workload.RecordBytes, m.BatchSize)
	}
	s.renc = NewResultEncoder(x.Layout())
	s.outs = workload.NewOutputs(x.Layout(), m.BatchSize, m.BatchSize)
	return nil
}

func (s *server) task(p []byte) error {
	h, body, err := ParseTask(p)
	if err != nil {
		return err
	}
	n, first := int(h.Rows), int(h.First)
	if n < 1 || n > s.start.BatchSize || h.First > uint64(s.start.Rows) || first+n > s.start.Rows {
		return malformed("task %d: rows %d..%d do not fit batches of %d in %d rows", h.Batch, h.First, int64(h.First)+int64(n)-1, s.start.BatchSize, s.start.Rows)
	}
	var in []byte
	switch {
	case s.shared != nil || s.replica != nil:
		if len(body) != 0 {
			return malformed("task %d: %d bytes of data with transport %s", h.Batch, len(body), s.start.Transport)
		}
		if s.replica != nil {
			w := s.start.Workload.RecordBytes
			in = s.replica[first*w : (first+n)*w]
		} else {
			in, err = s.shared.Rows(first, n)
		}
	default:
		in, err = s.bdec.Decode(h, body)
	}
	if err != nil {
		return fmt.Errorf("task %d: %w", h.Batch, err)
	}
	t0 := time.Now()
	if err := s.x.Run(in, first, s.outs); err != nil {
		return fmt.Errorf("batch %d (rows %d..%d): %w", h.Batch, first, first+n-1, err)
	}
	frame, err := s.renc.Encode(ResultHeader{Batch: h.Batch, Rows: h.Rows, ComputeNS: uint64(time.Since(t0))}, s.outs)
	if err != nil {
		return err
	}
	_, err = s.out.Write(frame)
	return err
}

func (s *server) close() {
	if s.x != nil {
		_ = s.x.Close()
	}
	if s.shared != nil {
		s.shared.Close()
	}
	if s.bdec != nil {
		s.bdec.Close()
	}
}
