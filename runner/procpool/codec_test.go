package procpool

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/ortbench/ortbench/internal/raw"
	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

func TestBatchCodecRoundTrip(t *testing.T) {
	const width = 3 * 4
	f := make([]float32, 10*3)
	for i := range f {
		f[i] = float32(i) / 7
	}
	data := raw.Bytes(f)
	enc := NewBatchEncoder(width)
	dec := NewBatchDecoder(width, 4)
	defer dec.Close()
	// The schema travels in the first frame only; each frame decodes alone.
	for _, span := range [][2]int{{0, 4}, {4, 4}, {8, 2}} {
		frame, err := enc.Encode(TaskHeader{Batch: uint32(span[0] / 4), Rows: uint32(span[1]), First: uint64(span[0])}, data[span[0]*width:(span[0]+span[1])*width])
		if err != nil {
			t.Fatal(err)
		}
		typ, p, _, err := ReadFrame(bytes.NewReader(frame), nil)
		if err != nil || typ != MsgTask {
			t.Fatal(typ, err)
		}
		h, body, err := ParseTask(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dec.Decode(h, body)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, data[span[0]*width:(span[0]+span[1])*width]) {
			t.Fatalf("batch at %d: got %v", span[0], got)
		}
	}
}

func TestResultCodecRoundTrip(t *testing.T) {
	layout := []onnx.Output{{Name: "label", Kind: onnx.Int64, Width: 1}, {Name: "probabilities", Kind: onnx.Float32, Width: 3}}
	local := workload.NewOutputs(layout, 4, 4)
	for i := range 4 {
		local.I64[0][i] = int64(10 + i)
		for j := range 3 {
			local.F32[1][i*3+j] = float32(i) + float32(j)/10
		}
	}
	enc := NewResultEncoder(layout)
	dec := NewResultDecoder(layout, 4)
	defer dec.Close()
	out := workload.NewOutputs(layout, 10, 4)
	for _, first := range []int{4, 0} {
		frame, err := enc.Encode(ResultHeader{Batch: uint32(first / 4), Rows: 4, ComputeNS: 5}, local)
		if err != nil {
			t.Fatal(err)
		}
		_, p, _, err := ReadFrame(bytes.NewReader(frame), nil)
		if err != nil {
			t.Fatal(err)
		}
		h, body, err := ParseResult(p)
		if err != nil || h.ComputeNS != 5 {
			t.Fatal(h, err)
		}
		if err := dec.Decode(h, body, first, out); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.I64[0][first:first+4], local.I64[0]) || !slices.Equal(out.F32[1][first*3:first*3+12], local.F32[1]) {
			t.Fatalf("rows %d..: got %v %v", first, out.I64[0], out.F32[1])
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	enc := NewBatchEncoder(2)
	frame, _ := enc.Encode(TaskHeader{Batch: 0, Rows: 2}, []byte{1, 2, 3, 4})
	_, p, _, _ := ReadFrame(bytes.NewReader(frame), nil)
	h, body, _ := ParseTask(p)
	cases := map[string]func() error{
		"truncated": func() error {
			d := NewBatchDecoder(2, 2)
			defer d.Close()
			_, err := d.Decode(h, body[:len(body)-9])
			return err
		},
		"trailing": func() error {
			d := NewBatchDecoder(2, 2)
			defer d.Close()
			_, err := d.Decode(h, append(slices.Clone(body), 1, 2, 3))
			return err
		},
		"rows": func() error {
			d := NewBatchDecoder(2, 2)
			defer d.Close()
			_, err := d.Decode(TaskHeader{Rows: 3}, body)
			return err
		},
		"width": func() error {
			d := NewBatchDecoder(3, 2)
			defer d.Close()
			_, err := d.Decode(h, body)
			return err
		},
		"garbage": func() error {
			d := NewBatchDecoder(2, 2)
			defer d.Close()
			g := slices.Clone(body)
			for i := 8; i < len(g); i += 3 {
				g[i] ^= 0x5a
			}
			_, err := d.Decode(h, g)
			return err
		},
		"short header": func() error { _, _, err := ParseTask([]byte{1, 2}); return err },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if err := f(); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSharedRows(t *testing.T) {
	// More rows than one Arrow record batch holds (64Ki), so tasks can
	// straddle two batches.
	const rows, width = 70000, 8
	f := make([]float32, rows*2)
	for i := range f {
		f[i] = float32(i)
	}
	data := raw.Bytes(f)
	path, err := WriteShared(t.TempDir(), data, rows, width)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenShared(path, rows, width)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, span := range [][2]int{{0, 10}, {65530, 12}, {65536, 100}, {69990, 10}, {5, 1}} {
		got, err := s.Rows(span[0], span[1])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, data[span[0]*width:(span[0]+span[1])*width]) {
			t.Fatalf("rows %v differ", span)
		}
	}
	if _, err := s.Rows(69995, 10); !errors.Is(err, ErrMalformed) {
		t.Fatalf("rows past the end: %v", err)
	}
	if _, err := OpenShared(path, rows+1, width); err == nil {
		t.Fatal("wrong row count accepted")
	}
	if err := os.WriteFile(path, []byte("not arrow at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenShared(path, rows, width); err == nil {
		t.Fatal("garbage file accepted")
	}
}

// TestResultDecodeReusesMemory: decoding a stream of results allocates a
// small, fixed amount per message, not a copy of each message's data.
func TestResultDecodeReusesMemory(t *testing.T) {
	layout := []onnx.Output{{Name: "label", Kind: onnx.Int64, Width: 1}, {Name: "probabilities", Kind: onnx.Float32, Width: 10}}
	const rows = 1024 // 48 KiB of outputs a message
	local := workload.NewOutputs(layout, rows, rows)
	enc := NewResultEncoder(layout)
	var frames [][]byte
	for i := range 120 {
		f, err := enc.Encode(ResultHeader{Batch: uint32(i), Rows: rows}, local)
		if err != nil {
			t.Fatal(err)
		}
		_, p, _, _ := ReadFrame(bytes.NewReader(f), nil)
		_, body, _ := ParseResult(p)
		frames = append(frames, slices.Clone(body))
	}
	dec := NewResultDecoder(layout, rows)
	defer dec.Close()
	out := workload.NewOutputs(layout, rows, rows)
	if err := dec.Decode(ResultHeader{Rows: rows}, frames[0], 0, out); err != nil {
		t.Fatal(err)
	}
	var i int
	perMsg := testing.AllocsPerRun(100, func() {
		i++
		if err := dec.Decode(ResultHeader{Batch: uint32(i), Rows: rows}, frames[i], 0, out); err != nil {
			t.Fatal(err)
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for j := 1; j < 50; j++ {
		if err := dec.Decode(ResultHeader{Rows: rows}, frames[j], 0, out); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	bytesPerMsg := (after.TotalAlloc - before.TotalAlloc) / 49
	t.Logf("%.0f allocations, %d bytes a message of %d bytes", perMsg, bytesPerMsg, len(frames[1]))
	if bytesPerMsg > uint64(len(frames[1]))/4 {
		t.Errorf("decoding allocates %d bytes a message of %d bytes", bytesPerMsg, len(frames[1]))
	}
}
