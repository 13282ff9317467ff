package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := cli(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		// A test binary has no VCS stamp: the commit is unknown, never the
		// working tree's HEAD.
		for _, want := range []string{"ortbench ", "\ncommit: unknown\n", "\ngo: go1.", "\nonnxruntime: 1.", "libonnxruntime"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
}

// TestVersionWithoutLibrary: in a fresh process that cannot find the
// library, version still prints everything, says why on the onnxruntime
// line, and exits 0.
func TestVersionWithoutLibrary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "version")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), mainEnv+"=1", "ORTBENCH_ORT_LIB=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "onnxruntime: not loaded: onnxruntime shared library not found (looked in ") || !strings.Contains(string(out), "make ort") {
		t.Errorf("no reason on the onnxruntime line:\n%s", out)
	}
}
