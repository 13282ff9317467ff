package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/fleet"
)

func newFleetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Write (and submit) what runs an experiment's shards on a Slurm or Kubernetes cluster",
		Long: `fleet writes what it takes to run an experiment as n shards (run --shard i/n)
on a cluster, through the scheduler it already runs, followed by a merge:

  fleet slurm   a bash script submitting a Slurm job array (one exclusive node
                per shard) and a merge job that runs after every shard succeeded
  fleet k8s     a manifest: the config as a ConfigMap, an Indexed Job of shards
                and a merge Job, sharing a results volume`,
		Example: `  ortbench fleet slurm -c configs/go-vs-ort-threads.yaml --shards 4 --partition cpu -o shards.sh
  ortbench fleet k8s -c configs/go-vs-ort-threads.yaml --shards 4 --image ghcr.io/me/ortbench:v1 \
    --claim ortbench-results --config-path /ortbench/configs/go-vs-ort-threads.yaml -o ortbench.yaml`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newFleetSlurmCmd(), newFleetK8sCmd())
	return cmd
}

func newFleetSlurmCmd() *cobra.Command {
	var sf slurmFlags
	o := &sf.opts
	cmd := &cobra.Command{
		Use:   "slurm -c CONFIG --shards N",
		Short: "Write a Slurm job array of shards and a merge job (--submit: and submit it)",
		Long: `fleet slurm writes a bash script that submits the experiment as a Slurm job
array of N tasks, each running one shard on a node it holds exclusively
(sbatch --exclusive) into RESULTS/shards/i, and a merge job that depends on the
whole array (afterok) and writes RESULTS/merged; job logs go to RESULTS/logs.
The config, the binary and RESULTS must be on a filesystem every node sees.

With --submit the script is run (sbatch is called) from the current
directory; with --wait, fleet then waits for both jobs and fails unless every
one completed.`,
		Example: `  ortbench fleet slurm -c configs/go-vs-ort-threads.yaml --shards 4 --partition cpu -o shards.sh
  bash shards.sh
  ortbench fleet slurm -c configs/quick.yaml --shards 2 --results /shared/ortbench --submit --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFleetSlurm(cmd, &sf) },
	}
	f := cmd.Flags()
	f.StringVarP(&sf.path, "config", "c", "", "experiment file, on a filesystem every node sees (required)")
	f.IntVar(&o.Shards, "shards", 0, "number of shards: array tasks, one node each (required)")
	f.StringVar(&o.Partition, "partition", "", "Slurm partition (sbatch --partition)")
	f.StringVar(&o.Time, "time", "", "time limit of each job (sbatch --time, e.g. 02:00:00)")
	f.StringVar(&o.Account, "account", "", "Slurm account (sbatch --account)")
	f.IntVar(&o.CPUsPerTask, "cpus-per-task", 0, "confine each shard to this many CPUs of its node (sbatch --cpus-per-task, srun --cpu-bind=cores); 0: the whole node")
	f.StringVar(&o.JobName, "job-name", "ortbench", "prefix of the jobs' names")
	f.StringArrayVar(&o.Sbatch, "sbatch", nil, "a further sbatch option for both jobs, e.g. --sbatch=--constraint=avx512 (repeatable)")
	f.StringVar(&o.Results, "results", "results/fleet", "shared results folder: shards/i, merged, logs")
	f.StringVar(&o.Binary, "binary", "", "ortbench on the nodes (default: this executable's absolute path)")
	f.StringArrayVar(&o.RunArgs, "run-arg", nil, "an argument added to each shard's ortbench run, e.g. --run-arg=--repetitions=3 (repeatable)")
	f.StringArrayVar(&o.MergeArgs, "merge-arg", nil, "an argument added to ortbench merge, e.g. --merge-arg=--price=node1=0.5 (repeatable)")
	f.StringVarP(&sf.output, "output", "o", "", "write the script to this file (default: stdout; with --submit: RESULTS/submit.sh)")
	f.BoolVar(&sf.submit, "submit", false, "run the script: submit the jobs with sbatch")
	f.BoolVar(&sf.wait, "wait", false, "with --submit: wait until every job has finished; fail unless all completed")
	f.DurationVar(&sf.waitFor, "wait-timeout", 0, "with --wait: give up after this long (0: no limit)")
	return cmd
}

// slurmFlags are fleet slurm's flags.
type slurmFlags struct {
	opts         fleet.SlurmOptions
	path, output string
	submit, wait bool
	waitFor      time.Duration
}

// runFleetSlurm writes the job script and, with --submit, submits it.
func runFleetSlurm(cmd *cobra.Command, sf *slurmFlags) error {
	o, path, output := &sf.opts, sf.path, sf.output
	if path == "" {
		return fmt.Errorf("%w: fleet slurm needs -c CONFIG", errUsage)
	}
	if !cmd.Flags().Changed("shards") {
		return fmt.Errorf("%w: fleet slurm needs --shards N", errUsage)
	}
	if sf.waitFor < 0 {
		return fmt.Errorf("%w: --wait-timeout %s: want ≥ 0 (0: no limit)", errUsage, sf.waitFor)
	}
	var err error
	if o.Config, err = existingAbs(path); err != nil {
		return err
	}
	if err := checkFleetConfig(o.Config); err != nil {
		return err
	}
	if o.Binary == "" {
		if o.Binary, err = os.Executable(); err != nil {
			return err
		}
	}
	if o.Results, err = filepath.Abs(o.Results); err != nil {
		return err
	}
	script, err := fleet.Slurm(*o)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if !sf.submit {
		return writeOut(cmd.OutOrStdout(), output, script, 0o755)
	}
	return submitSlurm(cmd, sf, script)
}

// submitSlurm writes the script (to RESULTS/submit.sh unless -o says
// where), submits it and, with --wait, waits for the jobs.
func submitSlurm(cmd *cobra.Command, sf *slurmFlags, script []byte) error {
	o, output, wait, waitFor := &sf.opts, sf.output, sf.wait, sf.waitFor
	if output == "" {
		if err := os.MkdirAll(o.Results, 0o755); err != nil {
			return err
		}
		output = filepath.Join(o.Results, "submit.sh")
	}
	if err := writeOut(cmd.OutOrStdout(), output, script, 0o755); err != nil {
		return err
	}
	sub, err := fleet.SubmitSlurm(cmd.Context(), output)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprint(w, sub.Output)
	if !wait {
		return nil
	}
	ctx := cmd.Context()
	if waitFor > 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, waitFor)
		defer cancel()
	}
	states, err := fleet.WaitSlurm(ctx, 5*time.Second, sub.ShardsJob, sub.MergeJob)
	if err != nil {
		return err
	}
	if ok, bad := fleet.AllCompleted(states); !ok {
		return fmt.Errorf("slurm jobs did not all complete: %s (logs: %s)", bad, filepath.Join(o.Results, "logs"))
	}
	fmt.Fprintf(w, "every shard and the merge completed: %s\n", filepath.Join(o.Results, "merged"))
	return nil
}

func newFleetK8sCmd() *cobra.Command {
	var o fleet.K8sOptions
	var path, output string
	cmd := &cobra.Command{
		Use:   "k8s -c CONFIG --shards N --image IMAGE",
		Short: "Write a Kubernetes manifest: ConfigMap, Indexed Job of shards, merge Job",
		Long: `fleet k8s writes one manifest, applied with kubectl apply -f FILE: the config
as a ConfigMap NAME-config, an Indexed Job NAME-shards (completionMode:
Indexed) whose pods run ortbench run --shard auto into the results volume
(shards/k), one pod per node, and a Job NAME-merge that waits until every shard
has written its results.json, then runs ortbench merge into merged/.

The image must hold ortbench, the ONNX Runtime library and what the config
reads (model, dataset): relative paths in the config resolve against
--config-path's folder. The results claim should be ReadWriteMany when pods
may land on different nodes.`,
		Example: `  ortbench fleet k8s -c configs/go-vs-ort-threads.yaml --shards 4 --image ghcr.io/me/ortbench:v1 \
    --claim ortbench-results --config-path /ortbench/configs/go-vs-ort-threads.yaml -o ortbench.yaml
  kubectl apply -f ortbench.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return fmt.Errorf("%w: fleet k8s needs -c CONFIG", errUsage)
			}
			if err := checkFleetConfig(path); err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			o.Config = data
			manifest, err := fleet.K8s(o)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			return writeOut(cmd.OutOrStdout(), output, manifest, 0o644)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "experiment file, put in the ConfigMap (required)")
	f.IntVar(&o.Shards, "shards", 0, "number of shards: the Indexed Job's completions (required)")
	f.StringVar(&o.Image, "image", "", "container image with ortbench, ORT and the config's model and data (required)")
	f.StringVar(&o.ResultsClaim, "claim", "ortbench-results", "PersistentVolumeClaim every pod mounts for results")
	f.StringVar(&o.ResultsPath, "results-path", "/results", "where the results volume is mounted")
	f.StringVar(&o.Namespace, "namespace", "", "namespace of every object")
	f.StringVar(&o.Name, "name", "ortbench", "prefix of the objects' names (a DNS label)")
	f.StringVar(&o.ConfigPath, "config-path", "/etc/ortbench/config.yaml", "where the config file appears in the pods")
	f.StringVar(&o.Binary, "binary", "ortbench", "ortbench's path in the image")
	f.StringVar(&o.CPU, "cpu", "", "each shard's CPU request and limit (e.g. 4): Guaranteed QoS")
	f.StringVar(&o.Memory, "memory", "", "each shard's memory request and limit (e.g. 8Gi)")
	f.StringArrayVar(&o.RunArgs, "run-arg", nil, "an argument added to each shard's ortbench run (repeatable)")
	f.StringArrayVar(&o.MergeArgs, "merge-arg", nil, "an argument added to ortbench merge (repeatable)")
	f.StringVarP(&output, "output", "o", "", "write the manifest to this file (default: stdout)")
	return cmd
}

// checkFleetConfig refuses, before any job is written, a config file that
// every shard's run would refuse: its keys, types and ranges, and its plan
// expanded. The expansion assumes nodes as large as any config may use
// (config.MaxThreads cores): threads against cores are the nodes' to check,
// not this machine's, and so are the model and data, which may exist only
// there.
func checkFleetConfig(path string) error {
	cfg, err := config.Load(path, nil, nil)
	if err != nil {
		return err
	}
	n := config.MaxThreads
	node := config.Machine{LogicalCores: n, PhysicalCores: n, HostPhysicalCores: n}
	_, err = config.Expand(cfg, strategies(), node, formats().Names()...)
	return err
}

// existingAbs is path made absolute, after checking it exists.
func existingAbs(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %v", errUsage, err)
	}
	return filepath.Abs(path)
}

// writeOut writes data to the file path, or to w when path is "".
func writeOut(w io.Writer, path string, data []byte, mode os.FileMode) error {
	if path == "" {
		_, err := w.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}
