package procpool

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// Transports.
const (
	TransportCopy   = "copy"
	TransportShared = "shared"
	// TransportReplicate: every worker loads the whole dataset itself (the
	// unshared pattern: spawn without shared memory), so only (first, rows)
	// crosses the pipe, as with shared, but the data is in memory N+1 times.
	TransportReplicate = "replicate"
)

// Transports lists the transports a config may name.
var Transports = []string{TransportCopy, TransportReplicate, TransportShared}

// StartMsg tells a worker what to run. It is the only message a worker needs
// besides tasks: the model path, the session options (with this worker's
// own intra-op thread count) and how the data arrives.
type StartMsg struct {
	Worker    int             `json:"worker"`
	Workload  workload.Remote `json:"workload"`
	Library   string          `json:"library,omitempty"` // ONNX Runtime shared library (onnx)
	Options   onnx.Options    `json:"options"`
	Rows      int             `json:"rows"`       // rows in the dataset
	BatchSize int             `json:"batch_size"` // rows per task, at most
	Transport string          `json:"transport"`
	// SharedPath is the Arrow IPC file every worker maps (transport shared).
	SharedPath string `json:"shared_path,omitempty"`
}

// Check validates a start message on the worker side.
func (m *StartMsg) Check() error {
	switch {
	case m.Workload.RecordBytes < 1:
		return fmt.Errorf("start: record bytes %d, want ≥ 1", m.Workload.RecordBytes)
	case m.Rows < 1:
		return fmt.Errorf("start: rows %d, want ≥ 1", m.Rows)
	case m.BatchSize < 1:
		return fmt.Errorf("start: batch size %d, want ≥ 1", m.BatchSize)
	case m.Transport == TransportShared && m.SharedPath == "":
		return fmt.Errorf("start: transport shared needs shared_path")
	case m.Transport == TransportReplicate && m.Workload.Kind == "onnx" && m.Workload.Dataset == nil:
		return fmt.Errorf("start: transport replicate needs the workload's dataset")
	case m.Transport != TransportShared && m.Transport != TransportCopy && m.Transport != TransportReplicate:
		return fmt.Errorf("start: transport %q, want copy, replicate or shared", m.Transport)
	}
	return nil
}

// ReadyMsg is a worker's answer to Start.
type ReadyMsg struct {
	PID    int           `json:"pid"`
	Layout []onnx.Output `json:"layout"`
	// StartupSeconds is the worker's own start-up: library load, session
	// creation, mapping the shared file.
	StartupSeconds float64 `json:"startup_seconds"`
}

// TaskHeader opens a Task payload: batch index, row count and first row.
type TaskHeader struct {
	Batch uint32
	Rows  uint32
	First uint64
}

// ResultHeader opens a Result payload: the batch it answers and how long
// the worker spent computing it.
type ResultHeader struct {
	Batch     uint32
	Rows      uint32
	ComputeNS uint64
}

// headerLen is the size of TaskHeader and ResultHeader on the wire.
const headerLen = 16

func putHeader(b []byte, a, c uint32, d uint64) {
	binary.LittleEndian.PutUint32(b[0:], a)
	binary.LittleEndian.PutUint32(b[4:], c)
	binary.LittleEndian.PutUint64(b[8:], d)
}

func getHeader(b []byte) (a, c uint32, d uint64, err error) {
	if len(b) < headerLen {
		return 0, 0, 0, malformed("payload of %d bytes is shorter than its %d-byte header", len(b), headerLen)
	}
	return binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint64(b[8:]), nil
}

// appendTask appends a task header to a frame.
func appendTask(f *Frame, h TaskHeader) {
	var b [headerLen]byte
	putHeader(b[:], h.Batch, h.Rows, h.First)
	_, _ = f.Write(b[:])
}

// ParseTask splits a Task payload into its header and its Arrow IPC bytes.
func ParseTask(p []byte) (TaskHeader, []byte, error) {
	a, c, d, err := getHeader(p)
	return TaskHeader{Batch: a, Rows: c, First: d}, p[min(len(p), headerLen):], err
}

// ParseResult splits a Result payload into its header and its Arrow IPC bytes.
func ParseResult(p []byte) (ResultHeader, []byte, error) {
	a, c, d, err := getHeader(p)
	return ResultHeader{Batch: a, Rows: c, ComputeNS: d}, p[min(len(p), headerLen):], err
}

// WriteJSON sends a control message.
func WriteJSON(w io.Writer, t Type, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return WriteFrame(w, t, data)
}

// DecodeJSON decodes a control message strictly: unknown fields and
// trailing data are malformed.
func DecodeJSON(p []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed("%T: %v", v, err)
	}
	if dec.More() {
		return malformed("%T: trailing data after the JSON object", v)
	}
	return nil
}
