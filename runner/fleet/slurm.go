// Package fleet writes what it takes to run one experiment's shards on a
// cluster, through the schedulers teams already run: a Slurm job array
// (Slurm) or a Kubernetes Indexed Job (K8s), each followed by a merge step
// that combines the shards once every one of them has finished. It does not
// schedule anything itself; SubmitSlurm and WaitSlurm only call sbatch,
// squeue and scontrol.
//
// Shards are numbered 1..n as in package shard: a Slurm array runs
// --array=1-n and passes `--shard $SLURM_ARRAY_TASK_ID/n`; an Indexed Job
// passes `--shard auto`, which reads JOB_COMPLETION_INDEX (0-based) and
// ORTBENCH_SHARDS (shard.FromEnv).
//
// Note: the Slurm merge step could have been a second array task or a
// polling loop; an afterok dependency was chosen because Slurm then starts
// the merge only when every shard exited 0, and cancels it (with
// DependencyParameters=kill_invalid_depend) when one did not.
package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// SlurmOptions describe the Slurm job array Slurm writes.
type SlurmOptions struct {
	// Config is the experiment file as every node sees it (a shared
	// filesystem). Required unless Command is set.
	Config string
	// Shards is the number of array tasks, each running one shard (≥ 1).
	Shards int
	// Results is the shared results directory: shard i writes
	// Results/shards/i, the merge writes Results/merged, logs go to
	// Results/logs. Required. Relative paths are relative to the directory
	// the script is run from (sbatch's default working directory).
	Results string
	// JobName prefixes both jobs' names (default "ortbench").
	JobName string
	// Partition, Time (sbatch --time, e.g. "02:00:00") and Account are
	// passed to sbatch when set.
	Partition, Time, Account string
	// CPUsPerTask, when > 0, confines each shard to that many CPUs of its
	// (still exclusive) node: sbatch --cpus-per-task and the run started
	// by srun --cpu-bind=cores, so its step's cpuset and affinity mask hold
	// them and its automatic counts resolve from them (cores.go).
	CPUsPerTask int
	// Sbatch are further sbatch options for both jobs (e.g.
	// "--constraint=avx512").
	Sbatch []string
	// Binary is the ortbench executable on the nodes (default "ortbench").
	Binary string
	// RunArgs are added to each shard's `ortbench run` (e.g. "--repetitions", "3").
	RunArgs []string
	// MergeArgs are added to the merge's `ortbench merge`.
	MergeArgs []string
	// Command, when set, replaces each shard task's `ortbench run …`: a bash
	// command run with ORTBENCH_SHARD ("i/n"), ORTBENCH_SHARD_INDEX (i),
	// ORTBENCH_SHARDS (n), ORTBENCH_SHARD_DIR (Results/shards/i, created)
	// and ORTBENCH_RESULTS (Results) exported. For tests and wrappers.
	Command string
	// MergeCommand, when set, replaces the merge job's `ortbench merge …`;
	// it runs with ORTBENCH_SHARDS and ORTBENCH_RESULTS exported.
	MergeCommand string
}

// Slurm writes a bash script that submits the experiment as a Slurm job
// array of opts.Shards tasks, each holding its node exclusively
// (sbatch --exclusive: a benchmark must not share its cores with another
// shard or job), and a merge job that depends on the whole array
// (--dependency=afterok). One command runs it all:
//
//	bash ortbench-slurm.sh
//
// It prints the two job ids, as lines `ORTBENCH_SHARDS_JOB=ID` and
// `ORTBENCH_MERGE_JOB=ID` for scripts (SubmitSlurm reads them).
func Slurm(opts SlurmOptions) ([]byte, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	name := def(opts.JobName, "ortbench")
	n := opts.Shards
	shardCmd, mergeCmd := opts.commands()
	common := opts.commonSbatch

	var b bytes.Buffer
	fmt.Fprintf(&b, `#!/usr/bin/env bash
# Written by ortbench fleet slurm. Runs %d shards of %s as a Slurm job array
# (one node each, exclusively), then merges them once every shard succeeded.
#
#   bash THIS_SCRIPT
#
# Results (on a filesystem every node sees): shard i in RESULTS/shards/i,
# the merged run in RESULTS/merged, job logs in RESULTS/logs.
set -euo pipefail
command -v sbatch >/dev/null || { echo "sbatch not found: run this on a Slurm login node" >&2; exit 1; }
results=%s
mkdir -p "$results/logs" "$results/shards"

shards_job=$(sbatch --parsable \
  --job-name=%s \
  --array=1-%d \
  --nodes=1 --ntasks=1 \
  --exclusive \
  --output="$results/logs/shard-%%a.out" \
`, n, describe(opts), shellQuote(opts.Results), shellQuote(name+"-shards"), n)
	if opts.Time != "" {
		fmt.Fprintf(&b, "  --time=%s \\\n", shellQuote(opts.Time))
	}
	if opts.CPUsPerTask > 0 {
		fmt.Fprintf(&b, "  --cpus-per-task=%d \\\n", opts.CPUsPerTask)
	}
	common(&b)
	fmt.Fprintf(&b, `  <<'%s'
#!/usr/bin/env bash
set -euo pipefail
export ORTBENCH_RESULTS=%s
export ORTBENCH_SHARDS=%d
export ORTBENCH_SHARD_INDEX="$SLURM_ARRAY_TASK_ID"
export ORTBENCH_SHARD="$SLURM_ARRAY_TASK_ID/%d"
export ORTBENCH_SHARD_DIR="$ORTBENCH_RESULTS/shards/$SLURM_ARRAY_TASK_ID"
mkdir -p "$ORTBENCH_SHARD_DIR"
echo "ortbench: shard $ORTBENCH_SHARD on $(hostname), job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
%s
%s
)
shards_job=${shards_job%%%%;*}

merge_job=$(sbatch --parsable \
  --job-name=%s \
  --dependency=afterok:"$shards_job" \
  --nodes=1 --ntasks=1 \
  --output="$results/logs/merge.out" \
`, shardEOF, shellQuote(opts.Results), n, n, shardCmd, shardEOF, shellQuote(name+"-merge"))
	common(&b)
	fmt.Fprintf(&b, `  <<'%s'
#!/usr/bin/env bash
set -euo pipefail
export ORTBENCH_RESULTS=%s
export ORTBENCH_SHARDS=%d
echo "ortbench: merging %d shards on $(hostname), job $SLURM_JOB_ID"
%s
%s
)
merge_job=${merge_job%%%%;*}

echo "ortbench: shards job $shards_job (array 1-%d), merge job $merge_job (after every shard succeeded)"
echo "ortbench: watch with: squeue -j $shards_job,$merge_job   logs: $results/logs"
echo "ORTBENCH_SHARDS_JOB=$shards_job"
echo "ORTBENCH_MERGE_JOB=$merge_job"
`, mergeEOF, shellQuote(opts.Results), n, n, mergeCmd, mergeEOF, n)
	return b.Bytes(), nil
}

// commands are the shard's and the merge's commands: the options' own, or
// ortbench run --shard (under srun when each task gets its CPUs) and merge.
func (opts SlurmOptions) commands() (shardCmd, mergeCmd string) {
	bin := def(opts.Binary, "ortbench")
	shardCmd = opts.Command
	if shardCmd == "" {
		args := append([]string{bin, "run", "-c", opts.Config}, opts.RunArgs...)
		shardCmd = "exec " + shellJoin(args) + ` --shard "$ORTBENCH_SHARD" --out "$ORTBENCH_SHARD_DIR"`
		if opts.CPUsPerTask > 0 {
			shardCmd = fmt.Sprintf("exec srun --ntasks=1 --cpus-per-task=%d --cpu-bind=cores %s", opts.CPUsPerTask, strings.TrimPrefix(shardCmd, "exec "))
		}
	}
	mergeCmd = opts.MergeCommand
	if mergeCmd == "" {
		mergeCmd = "exec " + shellJoin(append([]string{bin, "merge"}, opts.MergeArgs...)) +
			fmt.Sprintf(` "$ORTBENCH_RESULTS"/shards/{1..%d} --out "$ORTBENCH_RESULTS/merged"`, opts.Shards)
	}
	return shardCmd, mergeCmd
}

// commonSbatch writes the sbatch options both jobs take: partition,
// account and the user's own.
func (opts SlurmOptions) commonSbatch(b *bytes.Buffer) {
	if opts.Partition != "" {
		fmt.Fprintf(b, "  --partition=%s \\\n", shellQuote(opts.Partition))
	}
	if opts.Account != "" {
		fmt.Fprintf(b, "  --account=%s \\\n", shellQuote(opts.Account))
	}
	for _, s := range opts.Sbatch {
		fmt.Fprintf(b, "  %s \\\n", shellQuote(s))
	}
}

const (
	shardEOF = "ORTBENCH_SHARD_SCRIPT"
	mergeEOF = "ORTBENCH_MERGE_SCRIPT"
)

func (o SlurmOptions) check() error {
	var errs []string
	if o.Shards < 1 {
		errs = append(errs, fmt.Sprintf("--shards %d: want at least 1", o.Shards))
	}
	if o.CPUsPerTask < 0 {
		errs = append(errs, fmt.Sprintf("--cpus-per-task %d: want ≥ 1 (or 0: the whole node)", o.CPUsPerTask))
	}
	if o.Config == "" && o.Command == "" {
		errs = append(errs, "no config file given")
	}
	if o.Results == "" {
		errs = append(errs, "no results directory given")
	}
	fields := map[string]string{"config": o.Config, "results": o.Results, "job name": o.JobName, "partition": o.Partition,
		"time": o.Time, "account": o.Account, "binary": o.Binary}
	for _, k := range []string{"config", "results", "job name", "partition", "time", "account", "binary"} {
		if strings.ContainsAny(fields[k], "\n\r\x00") {
			errs = append(errs, fmt.Sprintf("%s %q: contains a line break", k, fields[k]))
		}
	}
	for _, s := range append(append(append([]string{}, o.Sbatch...), o.RunArgs...), o.MergeArgs...) {
		if strings.ContainsAny(s, "\n\r\x00") {
			errs = append(errs, fmt.Sprintf("argument %q: contains a line break", s))
		}
	}
	for _, c := range []string{o.Command, o.MergeCommand} {
		for _, line := range strings.Split(c, "\n") {
			if t := strings.TrimSpace(line); t == shardEOF || t == mergeEOF {
				errs = append(errs, fmt.Sprintf("command: a line %q would end the embedded job script", t))
			}
		}
	}
	if len(errs) > 0 {
		return errors.New("fleet slurm: " + strings.Join(errs, "; "))
	}
	return nil
}

func describe(o SlurmOptions) string {
	if o.Config != "" {
		return o.Config
	}
	return "a command"
}

func def(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// shellQuote quotes s for bash: bare when it is made of safe characters
// only, else in single quotes.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
