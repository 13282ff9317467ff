package results

import "io"

// EncodeParquet writes one row per cell with the flat columns
// (float64, int64, bool, string), Snappy-compressed, in one row group; the
// experiment's schema version rides along as metadata.
func EncodeParquet(run *Run, w io.Writer) error { return flatTable(run).WriteParquet(w) }
