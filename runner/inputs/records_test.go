package inputs

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
)

func TestInterleaveLayout(t *testing.T) {
	feeds := []onnx.Feed{{Name: "a", DType: onnx.DUint8, Item: []int64{2}}, {Name: "b", DType: onnx.DInt8, Item: []int64{1}}}
	per := [][]byte{{1, 2, 3, 4, 5, 6}, {7, 8, 9}}
	rec, err := Interleave(feeds, per, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{1, 2, 7, 3, 4, 8, 5, 6, 9}; !bytes.Equal(rec, want) {
		t.Fatalf("records %v, want %v", rec, want)
	}
	back, err := Split(feeds, rec, 3)
	if err != nil || !bytes.Equal(back[0], per[0]) || !bytes.Equal(back[1], per[1]) {
		t.Fatalf("split %v %v", back, err)
	}
}

func TestInterleaveRoundTrip(t *testing.T) {
	per, err := Generate(bert, nil, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Interleave(bert, per, 5)
	if err != nil || len(rec) != 5*onnx.RecordBytes(bert) {
		t.Fatalf("%d bytes, %v", len(rec), err)
	}
	back, err := Split(bert, rec, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range bert {
		if !bytes.Equal(back[i], per[i]) {
			t.Errorf("%s did not survive Interleave and Split", bert[i].Name)
		}
	}
	// Record 2 is, input by input, each input's item 2.
	var want []byte
	for i, f := range bert {
		n := f.ItemBytes()
		want = append(want, per[i][2*n:3*n]...)
	}
	r := onnx.RecordBytes(bert)
	if !bytes.Equal(rec[2*r:3*r], want) {
		t.Error("record 2 is not the inputs' item 2 in model order")
	}
}

func TestInterleaveErrors(t *testing.T) {
	feeds := []onnx.Feed{{Name: "a", DType: onnx.DFloat32, Item: []int64{2}}}
	cases := []struct {
		per   [][]byte
		items int
		want  string
	}{
		{[][]byte{make([]byte, 8), nil}, 1, "2 inputs' bytes for 1 inputs"},
		{[][]byte{make([]byte, 7)}, 1, "input a has 7 bytes, 1 items need 8"},
		{[][]byte{nil}, 1, "input a has 0 bytes"}, // a column input not filled yet
		{[][]byte{nil}, -1, "-1 items"},
	}
	for _, c := range cases {
		if _, err := Interleave(feeds, c.per, c.items); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.per, err, c.want)
		}
	}
	if _, err := Split(feeds, make([]byte, 12), 2); err == nil || !strings.Contains(err.Error(), "12 bytes are not 2 records of 8 bytes") {
		t.Errorf("split: %v", err)
	}
	if _, err := Split(feeds, nil, -1); err == nil {
		t.Error("split of -1 items")
	}
}
