package inputs

import (
	"fmt"

	"github.com/ortbench/ortbench/onnx"
)

// Interleave turns per-input bytes (items × ItemBytes each, as Generate and
// ReadTestData give them) into item records: for each item, every input's
// bytes in model order (onnx.RecordBytes).
func Interleave(feeds []onnx.Feed, perInput [][]byte, items int) ([]byte, error) {
	if err := checkPerInput(feeds, perInput, items); err != nil {
		return nil, err
	}
	rec := onnx.RecordBytes(feeds)
	out := make([]byte, items*rec)
	off := 0
	for i, f := range feeds {
		n := f.ItemBytes()
		for it := range items {
			copy(out[it*rec+off:], perInput[i][it*n:(it+1)*n])
		}
		off += n
	}
	return out, nil
}

// Split is Interleave's inverse: item records back to per-input bytes.
func Split(feeds []onnx.Feed, records []byte, items int) ([][]byte, error) {
	rec := onnx.RecordBytes(feeds)
	if items < 0 || len(records) != items*rec {
		return nil, fmt.Errorf("split: %d bytes are not %d records of %d bytes", len(records), items, rec)
	}
	out := make([][]byte, len(feeds))
	off := 0
	for i, f := range feeds {
		n := f.ItemBytes()
		out[i] = make([]byte, items*n)
		for it := range items {
			copy(out[i][it*n:(it+1)*n], records[it*rec+off:])
		}
		off += n
	}
	return out, nil
}

func checkPerInput(feeds []onnx.Feed, perInput [][]byte, items int) error {
	if len(perInput) != len(feeds) {
		return fmt.Errorf("interleave: %d inputs' bytes for %d inputs", len(perInput), len(feeds))
	}
	if items < 0 {
		return fmt.Errorf("interleave: %d items", items)
	}
	for i, f := range feeds {
		if want := items * f.ItemBytes(); len(perInput[i]) != want {
			return fmt.Errorf("interleave: input %s has %d bytes, %d items need %d", f.Name, len(perInput[i]), items, want)
		}
	}
	return nil
}
