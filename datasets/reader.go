package datasets

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ortbench/ortbench/runner/regular"
)

// Spec says which file and which columns to read.
type Spec struct {
	// Path is a .parquet file, an Arrow IPC file (.arrow, .ipc, .feather;
	// memory-mapped) or an Arrow IPC stream (.arrows).
	Path string
	// Features are column names or glob patterns (path.Match syntax), in
	// order. Names keep the order given. A pattern's matches come in the
	// order of ModelFeatures when it is set, else in the file's column
	// order; they never include the label, a column named "label" or a
	// pandas index column (__index_level_N__). Empty, with TensorColumn
	// empty, means ModelFeatures when set (matched by name, in that order);
	// else every numeric column except those, in file order; or, in a file
	// that has none, its only fixed_size_list column (what WriteArrowIPC
	// writes). Columns left out are reported by Notes.
	Features []string
	// TensorColumn is the alternative to Features: one
	// fixed_size_list<numeric, W> column holds each row's W features.
	TensorColumn string
	// Label is the label column's name. Empty means "label" if the file has
	// such a column, and no labels otherwise.
	Label string
	// NoLabel reads no label column, not even one named "label": for a
	// column read as a model input (runner's column:NAME specs).
	NoLabel bool
	// Limit reads at most this many rows (0 = all).
	Limit int
	// AllowNaN accepts nulls and NaNs in features (nulls read as NaN).
	// When false, the first one is an error naming the column and the row.
	AllowNaN bool
	// ModelFeatures are the names of the features the model was trained
	// on, in its input order (onnx.Model.FeatureNames, from the model's
	// metadata), or nil. With them, features are matched by name, so a file
	// with the same columns in another order gives the same rows; a name
	// the file lacks is an error.
	ModelFeatures []string
	// Stream asks a reader that holds as little of the file as it can
	// (streaming mode): Parquet is decoded in record batches of
	// streamBatchRows rows, and a mapped Arrow IPC file's pages are handed
	// back after every record batch, so RSS stays flat however large the
	// file.
	Stream bool
	// ModelWidth is the model's number of input features (0 = unknown). A
	// selection of another width is an error naming the columns taken and
	// the columns skipped.
	ModelWidth int
	// AllocCap is the smallest cap on one allocation while decoding
	// (0: 1 GiB; see allocatorFor): a corrupt size in the file fails
	// rather than allocating past it. The fuzz tests lower it.
	AllocCap int64
	// MaxBytes, when > 0, refuses (in Load and LoadFeatures, before the
	// table is allocated) a selection whose rows × width float32 values
	// take more bytes: the caller passes the memory available, so that an
	// honest but huge file is one line, not an out-of-memory kill.
	MaxBytes uint64
}

// defaultLabel is the label column used when Spec.Label is empty.
const defaultLabel = "label"

// Reader streams rows from a file in record batches; its memory does not grow
// with the number of rows. A Reader is not safe for concurrent use.
type Reader struct {
	path     string
	allowNaN bool
	names    []string
	order    string
	notes    []string
	width    int
	rows     int64 // rows that will be read, Limit applied
	done     int64 // rows returned so far

	src       source
	cols      []int // record column of each feature (scalar columns)
	tensorCol int   // record column of the tensor, or -1
	labelCol  int   // record column of the label, or -1

	cur    arrow.RecordBatch         // borrowed from src, valid until src.next
	dicts  map[arrow.Array][]float32 // decoded dictionaries of cur
	curOff int                       // next unread row of cur
	err    error                     // sticky: once Read fails it keeps failing
	closed bool
	// underflow counts, per feature, nonzero float64 values that read as 0
	// in float32 (Underflows).
	underflow map[string]int64
}

// Open opens spec.Path, resolves the columns and reads the row count from the
// file's metadata. It reads no row data (except for .arrows streams, which
// have no footer: their rows are counted in one pass at Open).
func Open(spec Spec) (r *Reader, err error) {
	path := spec.Path
	if path == "" {
		return nil, errors.New("dataset path is empty: set the dataset's path")
	}
	if spec.Limit < 0 {
		return nil, errorf(path, "limit %d is negative: use 0 for all rows", spec.Limit)
	}
	if len(spec.Features) > 0 && spec.TensorColumn != "" {
		return nil, errorf(path, "features and tensor_column are both set: use one of them")
	}
	open, err := opener(path)
	if err != nil {
		return nil, err
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}

	var src source
	// arrow-go panics on some malformed files instead of returning an
	// error; this is the package boundary, so turn that into an error here.
	defer func() {
		if p := recover(); p != nil {
			if src != nil {
				_ = src.close()
			}
			r, err = nil, errorf(path, "corrupt or unsupported file (arrow-go panicked: %v)", p)
		}
	}()

	src, err = open(path, spec.AllocCap)
	if err != nil {
		return nil, err
	}
	if st, ok := src.(interface{ stream() }); ok && spec.Stream {
		st.stream()
	}
	sel, err := resolve(path, src.fileSchema(), spec)
	if err != nil {
		_ = src.close()
		return nil, err
	}
	colOf, err := src.project(sel.fields())
	if err != nil {
		_ = src.close()
		return nil, errorf(path, "%v", unwrapPath(err))
	}
	total := src.numRows()
	if total < 0 {
		_ = src.close()
		return nil, errorf(path, "metadata says %d rows: the file is corrupt", total)
	}
	if spec.Limit > 0 && int64(spec.Limit) < total {
		total = int64(spec.Limit)
	}
	return newReader(spec, src, sel, colOf, total), nil
}

// checkFile says why path cannot be read as a dataset: missing (with the
// directory a relative path starts from) or a directory.
func checkFile(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if filepath.IsAbs(path) {
			return errorf(path, "no such file: check the dataset path")
		}
		return errorf(path, "no such file: check the dataset path (relative paths start from %s)", cwd())
	case err != nil:
		return errorf(path, "%v", unwrapPath(err))
	case st.IsDir():
		return errorf(path, "is a directory, want a file")
	case !st.Mode().IsRegular():
		// Opening a FIFO blocks until a writer comes; a device never ends.
		return errorf(path, "%s, want a regular file", regular.Kind(st.Mode()))
	}
	return nil
}

// newReader is the Reader over src for the resolved selection; colOf maps
// the selection's fields to the projected columns.
func newReader(spec Spec, src source, sel selection, colOf map[int]int, total int64) *Reader {
	path := spec.Path
	r := &Reader{
		path:      path,
		allowNaN:  spec.AllowNaN,
		names:     sel.names,
		order:     sel.order,
		notes:     sel.notes,
		width:     sel.width,
		rows:      total,
		src:       src,
		tensorCol: -1,
		labelCol:  -1,
	}
	if sel.tensor >= 0 {
		r.tensorCol = colOf[sel.tensor]
	} else {
		r.cols = make([]int, len(sel.scalars))
		for i, f := range sel.scalars {
			r.cols[i] = colOf[f]
		}
	}
	if sel.label >= 0 {
		r.labelCol = colOf[sel.label]
	}
	return r
}

// Width returns the number of features per row.
func (r *Reader) Width() int { return r.width }

// FeatureNames returns the resolved feature names, Width of them. For a
// tensor column they are "<column>[i]" unless the file stores names for it
// (WriteArrowIPC does).
func (r *Reader) FeatureNames() []string { return append([]string(nil), r.names...) }

// FeatureOrder says how the features were put in order: OrderModel (by the
// model's feature names), OrderGiven (the features list as written),
// OrderFile (the file's column order: the model stores no feature names, so
// a file with its columns in another order would feed the model other
// columns) or OrderTensor (one tensor column).
func (r *Reader) FeatureOrder() string { return r.order }

// Notes are one-line warnings about the selection, each starting with the
// file's path: columns skipped (not numeric, the label, a pandas index, not
// one of the model's features) and features that differ from the model's.
// The caller prints them (validate) or logs them.
func (r *Reader) Notes() []string { return append([]string(nil), r.notes...) }

// Underflow is a feature whose float64 values include nonzero ones below
// float32's smallest (about 1.4e-45): they read as 0.
type Underflow struct {
	Feature string
	Count   int64
}

// Underflows are the features with values that read as 0 though they are
// not 0 in the file, in the rows read so far, sorted by feature; values in
// a dictionary-encoded column are not counted. Unlike a value beyond
// float32's range (refused) or an integer float32 cannot hold exactly
// (refused), such a value keeps its meaning nearly everywhere (it is 0 to
// within 1e-45), so the caller states it rather than refuses it.
func (r *Reader) Underflows() []Underflow {
	out := make([]Underflow, 0, len(r.underflow))
	for f, n := range r.underflow {
		out = append(out, Underflow{Feature: f, Count: n})
	}
	slices.SortFunc(out, func(a, b Underflow) int { return strings.Compare(a.Feature, b.Feature) })
	return out
}

// HasLabels reports whether the reader has a label column.
func (r *Reader) HasLabels() bool { return r.labelCol >= 0 }

// Rows returns the number of rows the reader will return in all, Limit
// applied, as given by the file's metadata.
func (r *Reader) Rows() int64 { return r.rows }

// Read fills dst (row-major; len(dst) must be a multiple of Width) with up
// to len(dst)/Width rows, converting every numeric type to float32. If labels
// is not nil it must hold at least len(dst)/Width values and receives each
// row's label when the reader has a label column. Read returns the number of
// rows read, and 0, io.EOF when no rows remain. It allocates nothing per row:
// values go column-wise from the Arrow arrays straight into dst.
func (r *Reader) Read(dst []float32, labels []int64) (n int, err error) {
	if r.closed {
		return 0, errorf(r.path, "read after Close")
	}
	if r.err != nil {
		return 0, r.err
	}
	if len(dst)%r.width != 0 {
		return 0, errorf(r.path, "Read: len(dst)=%d is not a multiple of the width %d", len(dst), r.width)
	}
	want := len(dst) / r.width
	if labels != nil && len(labels) < want {
		return 0, errorf(r.path, "Read: len(labels)=%d is less than the %d rows dst holds", len(labels), want)
	}
	if r.done >= r.rows {
		return 0, io.EOF
	}
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, errorf(r.path, "corrupt or unsupported file near row %d (arrow-go panicked: %v)", r.done, p)
		}
		if err != nil {
			r.err = err
		}
	}()
	for n < want && r.done < r.rows {
		if r.cur == nil || r.curOff >= int(r.cur.NumRows()) {
			if err := r.nextBatch(); err != nil {
				return n, err
			}
			continue
		}
		k := min(want-n, int(r.cur.NumRows())-r.curOff, int(r.rows-r.done))
		var lab []int64
		if labels != nil {
			lab = labels[n : n+k]
		}
		if err := r.convert(dst[n*r.width:(n+k)*r.width], lab, k); err != nil {
			return n, err
		}
		r.curOff += k
		r.done += int64(k)
		n += k
	}
	return n, nil
}

// nextBatch moves to the next record batch and checks that the columns the
// reader uses are consistent with it, since the file may be corrupt.
func (r *Reader) nextBatch() error {
	rec, err := r.src.next()
	if err == io.EOF {
		return errorf(r.path, "file ended after %d rows but its metadata says %d: the file is truncated or corrupt", r.done, r.rows)
	}
	if err != nil {
		return errorf(r.path, "reading row %d: %v", r.done, unwrapPath(err))
	}
	r.cur, r.curOff = rec, 0
	clear(r.dicts)
	for _, c := range r.usedColumns() {
		if err := checkColumn(rec, c); err != nil {
			return errorf(r.path, "column %q near row %d: %v: the file is corrupt", rec.ColumnName(c), r.done, err)
		}
	}
	return nil
}

func (r *Reader) usedColumns() []int {
	cols := r.cols
	if r.tensorCol >= 0 {
		cols = []int{r.tensorCol}
	}
	if r.labelCol >= 0 {
		cols = append(cols[:len(cols):len(cols)], r.labelCol)
	}
	return cols
}

// Close releases the file. It is safe to call more than once.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.cur = nil
	if err := r.src.close(); err != nil {
		return errorf(r.path, "close: %v", unwrapPath(err))
	}
	return nil
}

// errorf formats a one-line error that starts with the file's path.
func errorf(path, format string, args ...any) error {
	return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
}

// unwrapPath drops the *fs.PathError wrapper so the path is not repeated.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

func cwd() string {
	d, err := os.Getwd()
	if err != nil {
		return "the working directory"
	}
	return d
}

// opener picks the source for a file by its extension.
func opener(path string) (openFunc, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".parquet", ".pq":
		return openParquet, nil
	case ".arrow", ".ipc", ".feather":
		return openIPCFile, nil
	case ".arrows":
		return openIPCStream, nil
	default:
		if ext == "" {
			ext = "no extension"
		} else {
			ext = fmt.Sprintf("%q", ext)
		}
		return nil, errorf(path, "unknown file extension (%s): want .parquet, .arrow/.ipc/.feather (Arrow IPC file) or .arrows (Arrow IPC stream)", ext)
	}
}
