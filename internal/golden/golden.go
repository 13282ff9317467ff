// Package golden compares a test's output with a file under testdata/golden,
// or rewrites the file when the test runs with -update (vegeta lib/plot's
// pattern). Only tests import it; its -update flag is theirs.
package golden

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// Check compares got with the file at path, or rewrites the file under
// -update. An empty output has no file.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		write(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) && got == "" {
		return
	}
	if err != nil {
		t.Fatalf("%v (go test -run Golden -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -run Golden -update rewrites it; review the diff):\n%s", path, LineDiff(string(want), got))
	}
}

func write(t testing.TB, path, got string) {
	if got == "" {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
}

// LineDiff shows the first lines where want and got part, with a line of
// context before.
func LineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	if i > 0 {
		fmt.Fprintf(&b, "  %d   %s\n", i, w[i-1])
	}
	for j := i; j < i+5; j++ {
		if j < len(w) {
			fmt.Fprintf(&b, "  %d - %s\n", j+1, w[j])
		}
		if j < len(g) {
			fmt.Fprintf(&b, "  %d + %s\n", j+1, g[j])
		}
	}
	if i < len(w) && i < len(g) && strings.TrimSpace(w[i]) == strings.TrimSpace(g[i]) {
		fmt.Fprintf(&b, "  (line %d differs in spacing: %q, %q)\n", i+1, w[i], g[i])
	}
	return b.String()
}
