package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment variables FromEnv reads.
const (
	// EnvSlurmID and the three beside it are set by Slurm in every task of a
	// job array (sbatch --array).
	EnvSlurmID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmCount = "SLURM_ARRAY_TASK_COUNT"
	EnvSlurmMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmMax   = "SLURM_ARRAY_TASK_MAX"
	EnvSlurmStep  = "SLURM_ARRAY_TASK_STEP"
	// EnvK8sIndex is set by Kubernetes in every pod of an Indexed Job
	// (completionMode: Indexed): 0..completions-1.
	EnvK8sIndex = "JOB_COMPLETION_INDEX"
	// EnvShards is the number of shards of an Indexed Job. Kubernetes does not
	// tell a pod its Job's completions count, so the manifest sets this
	// variable to it (fleet.K8s does).
	EnvShards = "ORTBENCH_SHARDS"
)

// Auto is the --shard value that means "take the shard from the scheduler's
// environment" (FromEnv).
const Auto = "auto"

// Parse reads the flag form "i/n": shard i of n, 1-based (1 ≤ i ≤ n), so
// "1/4" is the first of four. Errors are one line naming the flag, e.g.
// "--shard 5/4: index must be 1..4".
func Parse(s string) (i, n int, err error) {
	bad := func(format string, a ...any) (int, int, error) {
		return 0, 0, fmt.Errorf("--shard %s: "+format, append([]any{s}, a...)...)
	}
	a, b, found := strings.Cut(strings.TrimSpace(s), "/")
	if !found {
		return bad("want i/n (shard i of n, 1-based, e.g. 1/4) or %q", Auto)
	}
	n, err = strconv.Atoi(strings.TrimSpace(b))
	if err != nil {
		return bad("shard count %q is not a whole number", b)
	}
	if n < 1 {
		return bad("shard count must be at least 1")
	}
	i, err = strconv.Atoi(strings.TrimSpace(a))
	if err != nil {
		return bad("index %q is not a whole number", a)
	}
	if i < 1 || i > n {
		if i == 0 {
			return bad("index must be 1..%d (shards are numbered from 1)", n)
		}
		return bad("index must be 1..%d", n)
	}
	return i, n, nil
}

// FromEnv reads which shard this process is from a scheduler's environment
// (getenv is os.Getenv in production). i is 1-based like Parse's; ok is false
// when the environment names no shard. In order:
//
//   - Slurm job array: shard SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN + 1 of
//     SLURM_ARRAY_TASK_COUNT (MIN defaults to 0). The array must be
//     contiguous with step 1 (--array=1-4 or 0-3, not 0-6:2 or 1,3,8), else
//     the numbers would not name shards.
//   - Kubernetes Indexed Job: shard JOB_COMPLETION_INDEX + 1 of
//     ORTBENCH_SHARDS (the manifest sets it to the Job's completions).
//
// A variable that is set but malformed, or an index without its count, is an
// error naming the variables.
func FromEnv(getenv func(string) string) (i, n int, ok bool, err error) {
	num := func(name string) (int, bool, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0, false, nil
		}
		x, err := strconv.Atoi(v)
		if err != nil {
			return 0, true, fmt.Errorf("shard from environment: %s=%q is not a whole number", name, v)
		}
		return x, true, nil
	}
	if id, set, err := num(EnvSlurmID); err != nil {
		return 0, 0, false, err
	} else if set {
		count, set, err := num(EnvSlurmCount)
		if err != nil {
			return 0, 0, false, err
		}
		if !set {
			return 0, 0, false, fmt.Errorf("shard from environment: %s is set but %s is not", EnvSlurmID, EnvSlurmCount)
		}
		lo, _, err := num(EnvSlurmMin)
		if err != nil {
			return 0, 0, false, err
		}
		if step, set, err := num(EnvSlurmStep); err != nil {
			return 0, 0, false, err
		} else if set && step != 1 {
			return 0, 0, false, fmt.Errorf("shard from environment: %s=%d: the job array must have step 1 (e.g. --array=1-%d)", EnvSlurmStep, step, count)
		}
		if hi, set, err := num(EnvSlurmMax); err != nil {
			return 0, 0, false, err
		} else if set && hi-lo+1 != count {
			return 0, 0, false, fmt.Errorf("shard from environment: job array %d-%d has %d tasks, not %d: it must be contiguous (e.g. --array=1-%d)", lo, hi, count, hi-lo+1, count)
		}
		i, n = id-lo+1, count
		if n < 1 || i < 1 || i > n {
			return 0, 0, false, fmt.Errorf("shard from environment: %s=%d with %s=%d and %s=%d is not a shard 1..%d", EnvSlurmID, id, EnvSlurmMin, lo, EnvSlurmCount, count, count)
		}
		return i, n, true, nil
	}
	if idx, set, err := num(EnvK8sIndex); err != nil {
		return 0, 0, false, err
	} else if set {
		count, set, err := num(EnvShards)
		if err != nil {
			return 0, 0, false, err
		}
		if !set {
			return 0, 0, false, fmt.Errorf("shard from environment: %s is set but %s (the Job's completions) is not", EnvK8sIndex, EnvShards)
		}
		if count < 1 || idx < 0 || idx >= count {
			return 0, 0, false, fmt.Errorf("shard from environment: %s=%d is not an index 0..%d (%s=%d)", EnvK8sIndex, idx, count-1, EnvShards, count)
		}
		return idx + 1, count, true, nil
	}
	return 0, 0, false, nil
}

// Resolve turns the --shard flag's value into a shard: "" is no sharding
// (ok false), "auto" is FromEnv (an error when the environment names no
// shard), anything else is Parse's "i/n".
func Resolve(flag string, getenv func(string) string) (i, n int, ok bool, err error) {
	switch strings.TrimSpace(flag) {
	case "":
		return 0, 0, false, nil
	case Auto:
		i, n, ok, err = FromEnv(getenv)
		if err != nil {
			return 0, 0, false, fmt.Errorf("--shard auto: %w", err)
		}
		if !ok {
			return 0, 0, false, fmt.Errorf("--shard auto: no shard in the environment (%s/%s from a Slurm job array, or %s with %s)", EnvSlurmID, EnvSlurmCount, EnvK8sIndex, EnvShards)
		}
		return i, n, true, nil
	}
	i, n, err = Parse(flag)
	if err != nil {
		return 0, 0, false, err
	}
	return i, n, true, nil
}

// Label is the "i/n" form of shard i of n.
func Label(i, n int) string { return fmt.Sprintf("%d/%d", i, n) }
