package results

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// ParquetSchema is the Arrow schema of results.parquet: the flat columns, typed. The experiment's schema version rides along as metadata.
func ParquetSchema(run *Run) *arrow.Schema { return flatTable(run).Schema() }

// EncodeParquet writes one row per cell with the flat columns
// (float64, int64, bool, string), Snappy-compressed, in one row group.
func EncodeParquet(run *Run, w io.Writer) error { return flatTable(run).WriteParquet(w) }
