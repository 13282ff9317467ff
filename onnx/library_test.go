package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLibraryBesideTheBinary: with no variable and a working directory far
// from any .ort/, the library is found through the executable's location —
// bin/../.ort as `make` lays it out, beside the binary, or through a link.
func TestLibraryBesideTheBinary(t *testing.T) {
	root := t.TempDir()
	exe := filepath.Join(root, "repo", "bin", "ortbench")
	lib := filepath.Join(root, "repo", defaultLibrary)
	for _, p := range []string{exe, lib} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "gobin", "ortbench")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(root, "elsewhere")

	for _, e := range []string{exe, link} {
		c := libraryCandidates(elsewhere, e)
		if !slices.Contains(c, lib) {
			t.Errorf("exe %s: candidates %v lack %s", e, c, lib)
		}
		if c[0] != filepath.Join(elsewhere, defaultLibrary) {
			t.Errorf("the working directory does not come first: %v", c)
		}
	}
	c := libraryCandidates(elsewhere, exe)
	if !slices.Contains(c, filepath.Join(root, "repo", "bin", "libonnxruntime.so.1")) {
		t.Errorf("candidates %v do not look beside the binary", c)
	}
}

func TestFindLibraryMissingSaysWhere(t *testing.T) {
	t.Setenv(LibraryEnv, "")
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	p, err := FindLibrary("")
	if err == nil {
		// The test binary lives in a temporary build directory: nothing
		// should be there, but if a library is, the lookup works anyway.
		t.Skipf("found %s", p)
	}
	msg := err.Error()
	for _, want := range []string{"looked in ", filepath.Join(wd, defaultLibrary), "make ort", LibraryEnv, "--ort-lib"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if !errors.Is(err, ErrLibraryMissing) {
		t.Errorf("%v is not ErrLibraryMissing", err)
	}
}

func TestBuildLibrary(t *testing.T) {
	for _, bad := range []string{"", "..", "a/b"} {
		if _, err := BuildLibrary(bad); err == nil || !strings.Contains(err.Error(), "not a build name") {
			t.Errorf("BuildLibrary(%q): %v", bad, err)
		}
	}
	t.Chdir(t.TempDir())
	_, err := BuildLibrary("pypi-0.0.0")
	if !errors.Is(err, ErrLibraryMissing) || !strings.Contains(err.Error(), "make ort-pypi") {
		t.Errorf("a missing build: %v", err)
	}
}
