// Package procpool is the protocol between ortbench and its worker
// processes (the processes strategy), and both ends of it: Spawn starts a
// worker (a hidden `ortbench worker` subcommand) and Client talks to it;
// Serve is the worker's loop.
//
// Everything crosses two pipes (the worker's fd 3 carries tasks in, fd 4
// results out; stdout and stderr stay free for logs) as frames: an 8-byte
// header — payload length (uint32, little-endian), message type, protocol
// version, two zero bytes — then the payload. A frame that breaks any of
// these rules, or is longer than MaxFrame, is an error, never skipped: both
// ends fail loudly on a malformed message.
//
// A conversation: Start (JSON: workload, session options, transport), Ready
// (JSON: pid, output layout) or Error; then Task / Result pairs, one task in
// flight per worker; then Stop, and the worker exits 0. Batches and results
// are Arrow IPC stream messages: with transport "copy" each Task carries its
// rows as an Arrow record batch (one fixed_size_list<float32, width>
// column), the way a process pool pickles each task; with "shared" the
// dataset was written once as an Arrow IPC file that every worker
// memory-maps, and a Task carries only its row range. A Result carries the
// outputs as an Arrow record batch with one column per model output. The
// schema message of each stream travels once, in the first frame.
//
// Note: gob or JSON for batches was rejected: the point of the copy
// transport is to measure the cost of serialising data between processes,
// and Arrow IPC is what a Python process pool would use for the same data
// (pyarrow), so the two are comparable; JSON is used only for the one-off
// control messages.
package procpool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version every frame carries.
const Version = 1

// MaxFrame bounds a frame's payload (1 GiB): a larger length is a corrupt
// header, not a message.
const MaxFrame = 1 << 30

// HeaderSize is the size of a frame header.
const HeaderSize = 8

// Type is a message type.
type Type uint8

// Message types.
const (
	MsgStart  Type = 1 // parent → worker: JSON StartMsg
	MsgReady  Type = 2 // worker → parent: JSON ReadyMsg
	MsgTask   Type = 3 // parent → worker: TaskHeader, then Arrow IPC (copy)
	MsgResult Type = 4 // worker → parent: ResultHeader, then Arrow IPC
	MsgError  Type = 5 // worker → parent: UTF-8 text; the worker then exits
	MsgStop   Type = 6 // parent → worker: empty; the worker exits 0
)

func (t Type) String() string {
	switch t {
	case MsgStart:
		return "start"
	case MsgReady:
		return "ready"
	case MsgTask:
		return "task"
	case MsgResult:
		return "result"
	case MsgError:
		return "error"
	case MsgStop:
		return "stop"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// ErrMalformed marks a frame or message that breaks the protocol.
var ErrMalformed = errors.New("malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// PutHeader writes a frame header for a payload of n bytes into h.
func PutHeader(h []byte, t Type, n int) {
	binary.LittleEndian.PutUint32(h[0:4], uint32(n))
	h[4] = byte(t)
	h[5] = Version
	h[6], h[7] = 0, 0
}

// ParseHeader checks a frame header and returns its type and payload length.
func ParseHeader(h []byte) (Type, int, error) {
	n := binary.LittleEndian.Uint32(h[0:4])
	t := Type(h[4])
	switch {
	case h[5] != Version:
		return 0, 0, malformed("frame header % x: protocol version %d, want %d", h[:HeaderSize], h[5], Version)
	case h[6] != 0 || h[7] != 0:
		return 0, 0, malformed("frame header % x: reserved bytes are not zero", h[:HeaderSize])
	case t < MsgStart || t > MsgStop:
		return 0, 0, malformed("frame header % x: unknown message type %d", h[:HeaderSize], h[4])
	case n > MaxFrame:
		return 0, 0, malformed("frame header % x: payload of %d bytes exceeds the %d-byte limit", h[:HeaderSize], n, MaxFrame)
	}
	return t, int(n), nil
}

// WriteFrame writes one frame: header and payload in a single write when
// buf has HeaderSize bytes of room before payload (see Frame).
func WriteFrame(w io.Writer, t Type, payload []byte) error {
	var h [HeaderSize]byte
	PutHeader(h[:], t, len(payload))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	if len(payload) == 0 {
		return nil
	}
	_, err := w.Write(payload)
	return err
}

// ReadFrame reads one frame into buf (grown as needed and returned for
// reuse) and returns its type and payload, which aliases buf. A clean end
// of stream before a header is io.EOF; a stream that ends inside a frame is
// io.ErrUnexpectedEOF; a bad header is ErrMalformed.
func ReadFrame(r io.Reader, buf []byte) (t Type, payload, newBuf []byte, err error) {
	if cap(buf) < HeaderSize {
		buf = make([]byte, 0, 64<<10)
	}
	h := buf[:HeaderSize]
	if _, err := io.ReadFull(r, h); err != nil {
		return 0, nil, buf, err
	}
	t, n, err := ParseHeader(h)
	if err != nil {
		return 0, nil, buf, err
	}
	if cap(buf) < n {
		buf = make([]byte, 0, n+n/4)
	}
	payload = buf[:n]
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, buf, fmt.Errorf("%s frame of %d bytes: %w", t, n, err)
	}
	return t, payload, buf, nil
}

// Frame builds one outgoing frame in a reusable buffer: Begin reserves the
// header, the caller appends the payload (Buffer's Write), End fills the
// header in. One Write then sends the whole frame.
type Frame struct {
	b []byte
}

// Begin starts a frame, dropping the previous one.
func (f *Frame) Begin() { f.b = append(f.b[:0], make([]byte, HeaderSize)...) }

// Write appends payload bytes (io.Writer, for the Arrow IPC writer).
func (f *Frame) Write(p []byte) (int, error) {
	f.b = append(f.b, p...)
	return len(p), nil
}

// Bytes returns the frame so far.
func (f *Frame) Bytes() []byte { return f.b }

// Truncate keeps the first n payload bytes.
func (f *Frame) Truncate(n int) { f.b = f.b[:HeaderSize+n] }

// Payload returns the payload so far.
func (f *Frame) Payload() []byte { return f.b[HeaderSize:] }

// End fills in the header for type t and returns the whole frame.
func (f *Frame) End(t Type) ([]byte, error) {
	n := len(f.b) - HeaderSize
	if n > MaxFrame {
		return nil, fmt.Errorf("%s message of %d bytes exceeds the %d-byte frame limit: use smaller batches", t, n, MaxFrame)
	}
	PutHeader(f.b, t, n)
	return f.b, nil
}
