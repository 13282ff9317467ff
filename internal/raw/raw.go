// Package raw views typed slices as their bytes and back, without copying:
// ortbench carries a batch's inputs as item records of bytes (onnx.Feed),
// while tabular data is float32 end to end.
package raw

import "unsafe"

// Elem is a fixed-size element type ortbench moves as bytes.
type Elem interface {
	~float32 | ~float64 | ~int64 | ~int32 | ~int16 | ~uint16 | ~int8 | ~uint8
}

// Bytes is s's memory as bytes (len(s)·size of T).
func Bytes[T Elem](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

// As views b as a slice of T; ok is false when b's length is not a whole
// number of T or its start is not aligned for T (then the caller copies).
func As[T Elem](b []byte) (s []T, ok bool) {
	var z T
	if len(b)%int(unsafe.Sizeof(z)) != 0 || !alignedFor[T](b) {
		return nil, false
	}
	return View[T](b), true
}

// View is b as a slice of T for a caller that owns b's alignment (b from
// Zeroed, or checked with Aligned); a trailing partial element is dropped.
func View[T Elem](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

// Zeroed is n zeroed bytes aligned for any Elem, so they can be viewed in
// place (a tensor's memory that ORT writes and ortbench reads as []float32).
func Zeroed(n int) []byte {
	if n <= 0 {
		return nil
	}
	return Bytes(make([]int64, (n+7)/8))[:n]
}

func alignedFor[T Elem](b []byte) bool {
	var z T
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%unsafe.Alignof(z) == 0
}

// Aligned reports whether b starts on an 8-byte boundary (any Elem can be
// viewed there); an empty b is.
func Aligned(b []byte) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%8 == 0
}
