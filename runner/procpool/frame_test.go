package procpool

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var b bytes.Buffer
	msgs := []struct {
		t Type
		p []byte
	}{{MsgStart, []byte(`{"a":1}`)}, {MsgStop, nil}, {MsgTask, bytes.Repeat([]byte{7}, 100000)}}
	for _, m := range msgs {
		if err := WriteFrame(&b, m.t, m.p); err != nil {
			t.Fatal(err)
		}
	}
	var buf []byte
	for _, m := range msgs {
		typ, p, nb, err := ReadFrame(&b, buf)
		buf = nb
		if err != nil || typ != m.t || !bytes.Equal(p, m.p) {
			t.Fatalf("got %v %d bytes %v, want %v %d bytes", typ, len(p), err, m.t, len(m.p))
		}
	}
	if _, _, _, err := ReadFrame(&b, buf); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
}

func TestFrameMalformed(t *testing.T) {
	good := func() []byte {
		var b bytes.Buffer
		_ = WriteFrame(&b, MsgTask, []byte("abcd"))
		return b.Bytes()
	}
	cases := map[string]func([]byte) []byte{
		"version":  func(b []byte) []byte { b[5] = 9; return b },
		"reserved": func(b []byte) []byte { b[7] = 1; return b },
		"type":     func(b []byte) []byte { b[4] = 42; return b },
		"type0":    func(b []byte) []byte { b[4] = 0; return b },
		"length":   func(b []byte) []byte { b[3] = 0xff; return b },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := ReadFrame(bytes.NewReader(f(good())), nil)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		b := good()
		_, _, _, err := ReadFrame(bytes.NewReader(b[:len(b)-1]), nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
		}
		_, _, _, err = ReadFrame(bytes.NewReader(b[:3]), nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut header: got %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

// FuzzReadFrame feeds arbitrary bytes to the frame decoder and the message
// decoders behind it: they may fail, never panic or allocate unboundedly,
// and a frame they accept re-encodes to the same bytes.
func FuzzReadFrame(f *testing.F) {
	var b bytes.Buffer
	_ = WriteFrame(&b, MsgStart, []byte(`{"worker":1}`))
	f.Add(b.Bytes())
	b.Reset()
	_ = WriteFrame(&b, MsgStop, nil)
	f.Add(b.Bytes())
	enc := NewBatchEncoder(2)
	fr, _ := enc.Encode(TaskHeader{Batch: 1, Rows: 2, First: 4}, []byte{1, 2, 3, 4})
	f.Add(append([]byte(nil), fr...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 3, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		for range 4 {
			typ, p, nb, err := ReadFrame(r, buf)
			buf = nb
			if err != nil {
				return
			}
			var again bytes.Buffer
			_ = WriteFrame(&again, typ, p)
			if !bytes.HasSuffix(data[:len(data)-r.Len()], again.Bytes()) {
				t.Fatalf("frame does not re-encode to its bytes")
			}
			switch typ {
			case MsgTask:
				if h, body, err := ParseTask(p); err == nil && h.Rows > 0 && h.Rows <= 64 {
					d := NewBatchDecoder(2, 64)
					_, _ = d.Decode(h, body)
					d.Close()
				}
			case MsgStart:
				var m StartMsg
				if DecodeJSON(p, &m) == nil {
					_ = m.Check()
				}
			}
		}
	})
}
