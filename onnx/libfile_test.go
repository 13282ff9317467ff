package onnx

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeORT builds a shared library exporting OrtGetApiBase, versioned by a
// linker version script named node (ORT's Linux builds: VERS_<release>),
// or unversioned when node is "".
func fakeORT(t *testing.T, node string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc) to build a fake library with")
	}
	dir := t.TempDir()
	src, lib := filepath.Join(dir, "fake.c"), filepath.Join(dir, "libonnxruntime.so.1")
	if err := os.WriteFile(src, []byte("const void *OrtGetApiBase(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-shared", "-fPIC", "-o", lib, src}
	if node != "" {
		script := filepath.Join(dir, "v.lds")
		if err := os.WriteFile(script, []byte(node+" { global: OrtGetApiBase; local: *; };\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-Wl,--version-script="+script)
	}
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	return lib
}

// The release is read from OrtGetApiBase's symbol version without loading
// the file; one older than MinVersion is refused, and a file that names
// no release passes (its worker checks it when it loads it).
func TestLibraryFileVersion(t *testing.T) {
	for _, tc := range []struct {
		node, version, err string
	}{
		{"VERS_1.31.2", "1.31.2", ""},
		{"VERS_1.20.0", "1.20.0", "is ONNX Runtime 1.20.0: want " + MinVersion + " or newer"},
		{"MYLIB_2", "", ""},
		{"", "", ""},
	} {
		lib := fakeORT(t, tc.node)
		if got := LibraryFileVersion(lib); got != tc.version {
			t.Errorf("%q: version %q, want %q", tc.node, got, tc.version)
		}
		err := CheckLibraryFile(lib)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v, want it accepted", tc.node, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: %v, want %q", tc.node, err, tc.err)
		}
	}
	if lib := os.Getenv(LibraryEnv); lib != "" {
		v := LibraryFileVersion(lib)
		if v == "" || !AtLeast(v, MinVersion) {
			t.Errorf("%s: version %q read from the file", lib, v)
		}
		if Version() != "" && v != Version() {
			t.Errorf("%s: the file says %s, the loaded library %s", lib, v, Version())
		}
	}
}
