// Package onnx is ortbench's only door to ONNX Runtime: it finds and loads the
// shared library, turns ortbench's session options into ORT's, introspects
// models, and runs batches through preallocated, I/O-bound tensors.
//
// Nothing else in ortbench imports onnxruntime_go, so the rest of the code
// talks about feeds, item records and float32/int64 slices, not OrtValues.
//
// Model.Feeds says how each input is fed (dtype, one item's shape, batch
// axis); a batch travels as item records, each input's bytes of one item in
// model order. The hot path is Worker.RunRecords: it copies each input's
// bytes into a tensor whose memory the worker owns (one copy for one input),
// runs the session through an IoBinding (no Go allocation per call), and
// leaves the outputs in worker-owned slices, converted on read to float32
// or int64 where the model's dtype is another. Worker.Run is the same for a
// tabular model's float32 rows.
//
// Note: onnxruntime_go's DynamicAdvancedSession.Run allocates two small slices
// per call; IoBinding does not, which is why workers use it. A Session is safe
// for concurrent use (ORT's Run is thread-safe); a Worker is not.
package onnx
