package onnx

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// oldLibraryEnv, set in a child test process, names the library that child
// loads: Init runs once per process, so each refusal gets its own.
const oldLibraryEnv = "ORTBENCH_TEST_OLD_ORT"

// TestRefusesOldLibrary: a library older than the binding needs is refused
// with one line naming its version, the version needed and `make ort`. The
// stand-in is compiled from testdata/oldort.c (a C compiler is there, cgo
// needs one); the real 1.24.3 is tried too where `make` left it.
func TestRefusesOldLibrary(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "libonnxruntime.so.1")
	if out, err := exec.Command("cc", "-shared", "-fPIC", "-o", fake, filepath.Join("testdata", "oldort.c")).CombinedOutput(); err != nil {
		t.Fatalf("compiling the stand-in library: %v\n%s", err, out)
	}
	libs := map[string]string{fake: "1.20.0"}
	if real, err := filepath.Abs(filepath.Join("..", ".ort", "1.24.3", "libonnxruntime.so.1")); err == nil {
		if _, err := os.Stat(real); err == nil {
			libs[real] = "1.24.3"
		}
	}
	for lib, version := range libs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOldLibraryChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), oldLibraryEnv+"="+lib)
		out, _ := cmd.CombinedOutput()
		line := ""
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "refused: ") {
				line = strings.TrimPrefix(l, "refused: ")
			}
		}
		if line == "" {
			t.Fatalf("%s was not refused:\n%s", lib, out)
		}
		for _, want := range []string{"version " + version, MinVersion + " or newer", "make ort", BindingAPI} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: refusal %q lacks %q", lib, line, want)
			}
		}
	}
}

// TestOldLibraryChild is the child of TestRefusesOldLibrary; alone it does
// nothing.
func TestOldLibraryChild(t *testing.T) {
	lib := os.Getenv(oldLibraryEnv)
	if lib == "" {
		return
	}
	_, _, err := Init(lib)
	if err == nil {
		t.Fatalf("%s was loaded", lib)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("refusal spans lines: %q", err)
	}
	os.Stdout.WriteString("refused: " + err.Error() + "\n")
}

func TestAtLeast(t *testing.T) {
	for _, c := range []struct {
		v, min string
		want   bool
	}{
		{"1.30.0", "1.29", true}, {"1.29.0", "1.29", true}, {"1.28.9", "1.29", false},
		{"1.24.3", "1.29", false}, {"2.0.0", "1.29", true}, {"1.100.0", "1.29", true}, {"", "1.29", false}, {"x.y", "1.29", false},
	} {
		if got := AtLeast(c.v, c.min); got != c.want {
			t.Errorf("AtLeast(%q, %q) = %v", c.v, c.min, got)
		}
	}
}
