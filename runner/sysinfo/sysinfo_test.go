package sysinfo

import (
	"runtime/debug"
	"testing"
)

func TestGitCommitFromBuildInfoOnly(t *testing.T) {
	set := func(kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	cases := []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{set("vcs.revision", "abc123", "vcs.modified", "false"), true, "abc123"},
		{set("vcs.revision", "abc123", "vcs.modified", "true"), true, "abc123-dirty"},
		{set("vcs.modified", "true"), true, "unknown"},
		{set(), true, "unknown"},
		{nil, false, "unknown"},
	}
	for _, tc := range cases {
		if got := gitCommit(tc.bi, tc.ok); got != tc.want {
			t.Errorf("gitCommit(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
	// A test binary carries no VCS stamp, and the working tree (a git
	// checkout) must not be asked.
	if got := GitCommit(); got != "unknown" {
		t.Errorf("GitCommit() in a test binary = %q, want unknown", got)
	}
	if Version() == "" {
		t.Error("empty Version")
	}
}
