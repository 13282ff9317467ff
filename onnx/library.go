package onnx

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// MinVersion is the oldest ONNX Runtime whose C API has the version
// onnxruntime_go v1.35.0 asks for (29); an older library is refused. A newer
// one serves older API versions, so it is accepted.
const MinVersion = "1.29"

// BindingAPI names the binding and the C API version it asks for, for
// messages.
const BindingAPI = "onnxruntime_go v1.35.0, C API 29"

// MakeVersion is the release `make ort` fetches (the Makefile's ORT_VERSION).
const MakeVersion = "1.30.0"

// LibraryEnv names the environment variable that overrides the library path.
const LibraryEnv = "ORTBENCH_ORT_LIB"

// defaultLibrary is where `make ort` puts the library, relative to the repo root.
const defaultLibrary = ".ort/" + MakeVersion + "/libonnxruntime.so.1"

var (
	initMu      sync.Mutex
	initPath    string
	initVersion string
)

// ErrLibraryMissing is returned when no ONNX Runtime library can be found.
var ErrLibraryMissing = errors.New("onnxruntime shared library not found")

// FindLibrary resolves the library path: explicit (config key or flag), then
// $ORTBENCH_ORT_LIB, then where `make ort` puts it — .ort/ under the working
// directory or any parent, then beside the executable, in .ort/ beside it
// and in .ort/ of its parent directory (bin/../.ort), for the executable as
// started and, when that is a symbolic link, for the file it points to. So a
// binary built by `make` finds the library from any directory without an
// environment variable. The error lists every place it looked.
func FindLibrary(explicit string) (string, error) {
	if explicit != "" {
		return checkFile(explicit, "onnxruntime.library")
	}
	if p := os.Getenv(LibraryEnv); p != "" {
		return checkFile(p, "$"+LibraryEnv)
	}
	wd, _ := os.Getwd()
	exe, _ := os.Executable()
	candidates := libraryCandidates(wd, exe)
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w (looked in %s): run `make ort` in the ortbench repository (fetches onnxruntime-node@%s from npm into .ort/), or set %s or onnxruntime.library (--ort-lib) to a libonnxruntime.so %s or newer",
		ErrLibraryMissing, strings.Join(candidates, ", "), MakeVersion, LibraryEnv, MinVersion)
}

// BuildLibrary resolves a build's name — a folder `make` fills under .ort/
// ("1.30.0", "pypi-1.32.0") — to its libonnxruntime.so.1, looked for where
// FindLibrary looks for the default one; the error lists where.
func BuildLibrary(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("%q is not a build name (a folder under .ort/, such as pypi-1.32.0)", name)
	}
	rel := filepath.Join(".ort", name, "libonnxruntime.so.1")
	wd, _ := os.Getwd()
	exe, _ := os.Executable()
	cands := pluginCandidates(wd, exe, rel)
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: build %s is not in %s (make ort-pypi fetches pypi-%s)", ErrLibraryMissing, name, strings.Join(cands, ", "), "1.32.0")
}

// libraryCandidates lists the places FindLibrary looks, in order, without
// duplicates: .ort/ under wd and each of its parents, then for exe (and the
// file it links to) its own directory, .ort/ there and .ort/ in its parent.
func libraryCandidates(wd, exe string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if wd != "" {
		for dir := wd; ; dir = filepath.Dir(dir) {
			add(filepath.Join(dir, defaultLibrary))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if exe == "" {
		return out
	}
	exes := []string{exe}
	if real, err := filepath.EvalSymlinks(exe); err == nil && real != exe {
		exes = append(exes, real)
	}
	for _, e := range exes {
		dir := filepath.Dir(e)
		add(filepath.Join(dir, filepath.Base(defaultLibrary)))
		add(filepath.Join(dir, defaultLibrary))
		add(filepath.Join(filepath.Dir(dir), defaultLibrary))
	}
	return out
}

func checkFile(p, from string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%w: %s = %q: %v; run `make ort` or point it at a libonnxruntime.so %s or newer",
			ErrLibraryMissing, from, p, err, MinVersion)
	}
	if st.IsDir() {
		return "", fmt.Errorf("%w: %s = %q is a directory, want the libonnxruntime.so file", ErrLibraryMissing, from, p)
	}
	return p, nil
}

// Init loads the library once per process and returns its path and version.
// Later calls return the first result; a different path is an error because
// ORT cannot be loaded twice into one process.
func Init(explicit string) (path, version string, err error) {
	initMu.Lock()
	defer initMu.Unlock()
	if initPath != "" {
		return initPath, initVersion, nil
	}
	p, err := FindLibrary(explicit)
	if err != nil {
		return "", "", err
	}
	abs, _ := filepath.Abs(p)
	// Asking a too-old library for the binding's API version fails with
	// a bare code (and ORT's own line on stderr), so its release is read
	// first and named in the refusal.
	if v := libraryVersion(abs, true); v != "" && !AtLeast(v, MinVersion) {
		return "", "", tooOld(abs, v)
	}
	ort.SetSharedLibraryPath(abs)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return "", "", fmt.Errorf("loading onnxruntime from %s: %v (want a libonnxruntime.so %s or newer: run `make ort` or set %s)",
			abs, err, MinVersion, LibraryEnv)
	}
	v := ort.GetVersion()
	if !AtLeast(v, MinVersion) {
		_ = ort.DestroyEnvironment()
		return "", "", tooOld(abs, v)
	}
	initPath, initVersion = abs, v
	return abs, v, nil
}

func tooOld(path, v string) error {
	return fmt.Errorf("onnxruntime at %s is version %s, but %s needs %s or newer: run `make ort` (fetches %s) or set %s",
		path, v, BindingAPI, MinVersion, MakeVersion, LibraryEnv)
}

// AtLeast reports whether version v ("1.30.0") is min ("1.29") or newer,
// comparing the numeric major and minor parts; an unreadable v is not.
func AtLeast(v, min string) bool {
	a, okA := majorMinor(v)
	b, okB := majorMinor(min)
	if !okA || !okB {
		return false
	}
	return a[0] > b[0] || a[0] == b[0] && a[1] >= b[1]
}

func majorMinor(v string) ([2]int, bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return [2]int{}, false
	}
	var out [2]int
	for i := range out {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return [2]int{}, false
		}
		out[i] = n
	}
	return out, true
}

// Version returns the loaded library's version, or "" before Init.
func Version() string {
	initMu.Lock()
	defer initMu.Unlock()
	return initVersion
}

// LibraryPath returns the loaded library's absolute path, or "" before Init.
func LibraryPath() string {
	initMu.Lock()
	defer initMu.Unlock()
	return initPath
}

// CheckLibraryFile reports whether path is an ONNX Runtime shared library
// (an ELF shared object exporting OrtGetApiBase) of MinVersion or newer,
// without loading it: a second ORT build must not be loaded into this
// process, whose binding has its own. The release is LibraryFileVersion's;
// a file that names none is checked where it is loaded (a worker process's
// start, which refuses one older than MinVersion).
func CheckLibraryFile(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a shared library (%v): want a libonnxruntime.so %s or newer", path, err, MinVersion)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil || f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is not a shared library: want a libonnxruntime.so %s or newer", path, MinVersion)
	}
	for _, s := range syms {
		if s.Name == "OrtGetApiBase" && s.Section != elf.SHN_UNDEF {
			if v := symbolRelease(s); v != "" && !AtLeast(v, MinVersion) {
				return fmt.Errorf("%s is ONNX Runtime %s: want %s or newer", path, v, MinVersion)
			}
			return nil
		}
	}
	return fmt.Errorf("%s is not ONNX Runtime (it exports no OrtGetApiBase): want a libonnxruntime.so %s or newer", path, MinVersion)
}

// LibraryFileVersion reads the release of the ONNX Runtime library at path
// without loading it, "" where the file does not say: the ELF version of
// its OrtGetApiBase symbol, "VERS_1.30.0". ORT's Linux builds link with a
// version script named after the release (seen in the npm 1.30.0, PyPI
// 1.30.0 and PyPI 1.32.0 libraries); a build linked without one names none,
// and the strings in .rodata are no substitute (several x.y.z strings of
// bundled libraries sit beside ORT's own).
func LibraryFileVersion(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		return ""
	}
	for _, s := range syms {
		if s.Name == "OrtGetApiBase" && s.Section != elf.SHN_UNDEF {
			return symbolRelease(s)
		}
	}
	return ""
}

// symbolRelease is "1.30.0" for a symbol versioned VERS_1.30.0, else "".
func symbolRelease(s elf.Symbol) string {
	v, ok := strings.CutPrefix(s.Version, "VERS_")
	if !ok || !s.HasVersion {
		return ""
	}
	if _, ok := majorMinor(v); !ok {
		return ""
	}
	return v
}
