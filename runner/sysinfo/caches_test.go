package sysinfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSysfsCaches(t *testing.T) {
	dir := t.TempDir()
	for i, c := range [][3]string{{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "2048K"}, {"3", "Unified", "266240K"}} {
		d := filepath.Join(dir, "index"+string(rune('0'+i)))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "level"), []byte(c[0]+"\n"), 0o644)
		os.WriteFile(filepath.Join(d, "type"), []byte(c[1]+"\n"), 0o644)
		os.WriteFile(filepath.Join(d, "size"), []byte(c[2]+"\n"), 0o644)
	}
	if got, want := sysfsCaches(dir), "L1d 48 KiB, L1i 32 KiB, L2 2 MiB, L3 260 MiB"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := sysfsCaches(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("missing dir: %q", got)
	}
	if got := cacheSize("1536K"); got != "1.5 MiB" {
		t.Errorf("cacheSize = %q", got)
	}
}
