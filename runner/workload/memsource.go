package workload

// MemorySource streams w's input rows from the in-memory table (Data), the
// rows every other strategy reads: the pipeline's `source: memory`, which
// takes reading and decoding the file out of what it measures.
func MemorySource(w Workload) Source { return &memSource{data: w.Data()} }
