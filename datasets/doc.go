// Package datasets turns columnar files into fixed-width float32 rows for
// inference, and writes the synthetic and shared-memory files the benchmarks
// use.
//
// A Reader streams one record batch at a time (Parquet through pqarrow with
// column projection and 64Ki-row batches; Arrow IPC files memory-mapped and
// read zero-copy; Arrow IPC streams read sequentially) and converts the chosen
// columns column-wise, straight from the Arrow arrays into the caller's
// row-major []float32. Memory therefore stays bounded by one record batch
// whatever the file size, and Read does no per-row allocation. Load is
// Open plus Read into one slice sized from the file's metadata; a Table is
// what strategies slice batches from.
//
// Features come from named or globbed scalar columns (any integer or float
// type) or from one fixed_size_list tensor column. Nulls and NaNs in features
// are errors unless Spec.AllowNaN is set, because a silent NaN makes every
// later comparison of outputs meaningless.
//
// Every error is a single line that starts with the file's path and says how
// to fix the problem. A malformed file must give an error, never a crash:
// arrow-go panics on some malformed inputs, so Open and Read recover at the
// package boundary; and since an out-of-memory or a fault cannot be
// recovered, guard.go checks the lengths arrow-go trusts (schema flatbuffers,
// message sizes) before it sees them and caps each buffer allocation, and IPC
// files are mapped private and writable (arrow-go byte-swaps big-endian files
// in place). FuzzOpen and TestMutatedFiles exercise this.
//
// Note: reading whole files with pqarrow.ReadTable was rejected because its
// memory grows with the file, and the benchmarks use files of several GB.
package datasets
