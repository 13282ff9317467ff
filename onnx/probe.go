package onnx

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const void *(*GetApi)(unsigned int version);
	const char *(*GetVersionString)(void);
} probeApiBase;

// probe_version copies the release an ONNX Runtime library names into out.
// It keeps the library open when it answers (the binding opens the same file
// next, so nothing is loaded twice) and closes it otherwise.
static int probe_version(const char *path, char *out, size_t n, int keep) {
	void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (!h) return 1;
	const probeApiBase *(*get)(void) = (const probeApiBase *(*)(void))dlsym(h, "OrtGetApiBase");
	const probeApiBase *base = get ? get() : NULL;
	const char *v = base && base->GetVersionString ? base->GetVersionString() : NULL;
	if (!v) { dlclose(h); return 2; }
	strncpy(out, v, n - 1);
	out[n - 1] = 0;
	if (!keep) dlclose(h);
	return 0;
}
*/
import "C"

import "unsafe"

// libraryVersion reads the release a libonnxruntime names (OrtGetApiBase's
// GetVersionString) without asking it for an API version, so a library too
// old for the binding can be named and refused before the binding loads it.
// keep leaves it open for the binding; "" when the file is no ORT library.
func libraryVersion(path string, keep bool) string {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	var buf [64]C.char
	k := C.int(0)
	if keep {
		k = 1
	}
	if C.probe_version(cPath, &buf[0], C.size_t(len(buf)), k) != 0 {
		return ""
	}
	return C.GoString(&buf[0])
}
