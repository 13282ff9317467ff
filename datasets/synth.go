package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// SynthSpec describes a deterministic synthetic classification dataset.
type SynthSpec struct {
	Rows     int64
	Features int
	Classes  int
	Seed     uint64
	// Names names the feature columns (len Features); nil: f0..f{F-1}.
	// Generating rows shaped like a model's input takes its feature names,
	// since ortbench matches columns to a model by name.
	Names []string
}

// Validate reports what is wrong with s, if anything.
func (s SynthSpec) Validate() error {
	var errs []error
	if s.Rows < 1 {
		errs = append(errs, fmt.Errorf("synthetic rows = %d, want at least 1", s.Rows))
	}
	if s.Features < 1 || s.Features > maxSynthFeatures {
		errs = append(errs, fmt.Errorf("synthetic features = %d, want 1..%d", s.Features, maxSynthFeatures))
	}
	if s.Names != nil && len(s.Names) != s.Features {
		errs = append(errs, fmt.Errorf("synthetic features: %d names for %d columns", len(s.Names), s.Features))
	}
	if s.Classes < 2 || s.Classes > maxSynthClasses {
		errs = append(errs, fmt.Errorf("synthetic classes = %d, want 2..%d", s.Classes, maxSynthClasses))
	}
	return errors.Join(errs...)
}

const (
	maxSynthFeatures = 1 << 16
	maxSynthClasses  = 1 << 16
	// synthBatchBytes bounds the memory of one row group being written.
	synthBatchBytes = 32 << 20
	// synthSeparation is the expected distance between two class centroids
	// in units of the noise's standard deviation, whatever the number of
	// features: classes overlap a little, so models are neither perfect nor
	// hopeless.
	synthSeparation = 3.0
)

// WriteSynth writes the dataset spec describes to path as Parquet (zstd),
// atomically (temporary file, then rename), one bounded row group at a time
// so memory stays bounded whatever spec.Rows is. The columns are f0..f{F-1}
// (float32) and label (int64). Each row's class is drawn uniformly and its
// features are the class centroid plus unit gaussian noise; centroids and
// noise come from PCG streams seeded by spec.Seed, so the same spec always
// gives the same values.
func WriteSynth(ctx context.Context, spec SynthSpec, path string) error {
	rows := max(1, synthBatchBytes/(4*(spec.Features+2)))
	return writeSynth(ctx, spec, path, rows)
}

func writeSynth(ctx context.Context, spec SynthSpec, path string, batch int) error {
	if err := spec.Validate(); err != nil {
		return errorf(path, "%v", err)
	}
	g := newSynth(spec)
	fields := make([]arrow.Field, spec.Features+1)
	for i := range spec.Features {
		name := fmt.Sprintf("f%d", i)
		if spec.Names != nil {
			name = spec.Names[i]
		}
		fields[i] = arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float32}
	}
	fields[spec.Features] = arrow.Field{Name: defaultLabel, Type: arrow.PrimitiveTypes.Int64}
	schema := arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(false), // random floats do not repeat
		parquet.WithMaxRowGroupLength(int64(batch)),
		parquet.WithAllocator(memory.DefaultAllocator),
	)

	return writeAtomic(path, func(f *os.File) error {
		// pqarrow closes a writer that is an io.Closer; writeAtomic must
		// still sync and close the file itself.
		w, err := pqarrow.NewFileWriter(schema, struct{ io.Writer }{f}, props, pqarrow.DefaultWriterProps())
		if err != nil {
			return err
		}
		cols := make([][]float32, spec.Features)
		for i := range cols {
			cols[i] = make([]float32, batch)
		}
		labels := make([]int64, batch)
		for done := int64(0); done < spec.Rows; {
			if err := ctx.Err(); err != nil {
				_ = w.Close()
				return err
			}
			n := int(min(int64(batch), spec.Rows-done))
			g.fill(cols, labels[:n])
			// The arrays alias cols and labels; Write encodes the whole
			// row group before returning, so they can be refilled.
			rec := synthRecord(schema, cols, labels[:n])
			err := w.Write(rec)
			rec.Release()
			if err != nil {
				_ = w.Close()
				return err
			}
			done += int64(n)
		}
		return w.Close()
	})
}

// synth draws rows one after the other from one stream, so the values do
// not depend on how rows are grouped into batches.
type synth struct {
	rng       *rand.Rand
	classes   int
	centroids [][]float64 // [class][feature]
}

func newSynth(spec SynthSpec) *synth {
	// Separate streams for centroids and rows, so that the rows do not
	// shift when the centroid recipe changes.
	crng := rand.New(rand.NewPCG(spec.Seed, 0x63656e74726f6964)) // "centroid"
	scale := synthSeparation / math.Sqrt(2*float64(spec.Features))
	centroids := make([][]float64, spec.Classes)
	for c := range centroids {
		centroids[c] = make([]float64, spec.Features)
		for j := range centroids[c] {
			centroids[c][j] = crng.NormFloat64() * scale
		}
	}
	return &synth{
		rng:       rand.New(rand.NewPCG(spec.Seed, 0x726f7773)), // "rows"
		classes:   spec.Classes,
		centroids: centroids,
	}
}

// fill draws len(labels) rows into cols[feature][row] and labels.
func (g *synth) fill(cols [][]float32, labels []int64) {
	for i := range labels {
		c := g.rng.IntN(g.classes)
		labels[i] = int64(c)
		for j, mu := range g.centroids[c] {
			cols[j][i] = float32(mu + g.rng.NormFloat64())
		}
	}
}

// synthRecord wraps the first len(labels) rows of cols and labels in a
// record batch without copying.
func synthRecord(schema *arrow.Schema, cols [][]float32, labels []int64) arrow.RecordBatch {
	n := len(labels)
	arrs := make([]arrow.Array, 0, len(cols)+1)
	for _, c := range cols {
		buf := memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(c[:n]))
		d := array.NewData(arrow.PrimitiveTypes.Float32, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
		arrs = append(arrs, array.MakeFromData(d))
		d.Release()
	}
	buf := memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(labels))
	d := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	arrs = append(arrs, array.MakeFromData(d))
	d.Release()
	rec := array.NewRecordBatch(schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}
