package config

import (
	"fmt"
	"sort"
	"strings"
)

// OtherEnv are the ORTBENCH_ variables that are not config keys: every one
// some part of ortbench (or its tests and scripts) reads. Any other
// ORTBENCH_ variable is a typo that would otherwise be ignored in silence
// (ORTBENCH_REPETITONS=10 running the file's repetitions): Load refuses it.
var OtherEnv = []string{
	"ORTBENCH_ORT_LIB", "ORTBENCH_PYTHON", // onnx.LibraryEnv, pyproc.EnvVar
	// shard and fleet (runner/shard/env.go, runner/fleet)
	"ORTBENCH_SHARD", "ORTBENCH_SHARDS", "ORTBENCH_SHARD_INDEX", "ORTBENCH_SHARD_DIR", "ORTBENCH_RESULTS",
	"ORTBENCH_SHARDS_JOB", "ORTBENCH_MERGE_JOB", "ORTBENCH_SHARD_SCRIPT", "ORTBENCH_MERGE_SCRIPT", "ORTBENCH_SLURM",
	// tests, the CI script and the training notebook
	"ORTBENCH_CHAOS_TAG", "ORTBENCH_CHAOS_SEED", "ORTBENCH_CHAOS_TRIALS", "ORTBENCH_CHROMIUM", "ORTBENCH_CLI_TEST_MAIN",
	"ORTBENCH_STRATEGY_TEST_WORKER", "ORTBENCH_TEST_NO_ORT", "ORTBENCH_REPORT_OUT", "ORTBENCH_SERVE_MDC", "ORTBENCH_TRAIN_OUT",
	"ORTBENCH_CGROUP", // cmd/ortbench/cgroup_test.go: the real-cgroup test must run (.ci/run)
}

// unknownEnv reports every ORTBENCH_ variable of environ that is neither
// a config key's (EnvName) nor one of OtherEnv, with a "did you mean".
func unknownEnv(environ []string) Errors {
	known := append([]string(nil), OtherEnv...)
	for k := range defaults {
		known = append(known, EnvName(k))
	}
	sort.Strings(known)
	var errs Errors
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix+"_") || contains(known, name) {
			continue
		}
		hint := ""
		if s := Suggest(name, known); s != "" {
			hint = fmt.Sprintf(" (did you mean $%s?)", s)
		}
		errs = append(errs, fmt.Errorf("$%s: unknown environment variable: no config key or ortbench setting has this name%s", name, hint))
	}
	return errs
}

func contains(sorted []string, s string) bool {
	i := sort.SearchStrings(sorted, s)
	return i < len(sorted) && sorted[i] == s
}
