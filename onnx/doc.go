// Package onnx is ortbench's only door to ONNX Runtime: it finds and loads the
// shared library, turns ortbench's session options into ORT's, introspects
// models, and runs batches through preallocated, I/O-bound tensors.
//
// Nothing else in ortbench imports onnxruntime_go, so the rest of the code
// talks about rows, widths and float32 slices, not OrtValues.
//
// The hot path is Worker.Run: it copies one batch into a tensor whose memory
// the worker owns, runs the session through an IoBinding (no Go allocation per
// call), and leaves the outputs in worker-owned slices.
//
// Note: onnxruntime_go's DynamicAdvancedSession.Run allocates two small slices
// per call; IoBinding does not, which is why workers use it. A Session is safe
// for concurrent use (ORT's Run is thread-safe); a Worker is not.
package onnx
