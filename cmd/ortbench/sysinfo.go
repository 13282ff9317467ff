package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/strategy"
	"github.com/ortbench/ortbench/runner/sysinfo"
)

func newSysinfoCmd() *cobra.Command {
	var output, lib string
	var check bool
	cmd := &cobra.Command{
		Use:   "sysinfo",
		Short: "Print the environment block every result records",
		Long: `sysinfo prints what a run would record about this machine: CPU, cores, caches,
memory, OS, Go and ONNX Runtime versions, GOMAXPROCS and the project's commit.
ONNX Runtime is loaded to learn its version; when it cannot be, the rest is
still printed and the reason is given.

Usable cores are the CPUs both the affinity mask (taskset, numactl) and the
cgroup's cpuset allow, capped by the cgroup's CPU quota (v2 cpu.max, v1
cpu.cfs_quota_us ÷ cpu.cfs_period_us; a container's --cpus, a Kubernetes CPU
limit) rounded up: every automatic count (threads: 0), oversubscription
warning and efficiency uses them. NUMA nodes, core types (hybrid Intel
cpu_core/cpu_atom, Arm cpu_capacity), the frequency governor and turbo are
shown where sysfs says.

--check lists, one line each, what makes numbers measured here noisy or
unrepresentative (after pyperf's "system show"): a governor other than
performance, turbo on, SMT siblings both usable, other processes' load on
the usable cores (measured over half a second), a quota, cpuset or affinity
mask in force, NUMA nodes or core types mixed. It exits 0 either way.`,
		Example: `  ortbench sysinfo
  ortbench sysinfo --check
  ortbench sysinfo -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputFormat(output); err != nil {
				return err
			}
			if check {
				return printCheck(cmd.OutOrStdout(), cmd.Context())
			}
			_, _, ortErr := onnx.Init(lib)
			env := sysinfo.Collect(cmd.Context())
			w := cmd.OutOrStdout()
			if output == "json" {
				v := struct {
					results.Environment
					OnnxruntimeError string `json:"onnxruntime_error,omitempty"`
				}{Environment: env}
				if ortErr != nil {
					v.OnnxruntimeError = ortErr.Error()
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			return printSysinfo(w, env, ortErr)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&lib, "ort-lib", "", "path of libonnxruntime.so (default: $ORTBENCH_ORT_LIB, then .ort/)")
	cmd.Flags().BoolVar(&check, "check", false, "list what makes numbers measured here noisy or unrepresentative, one line each")
	return cmd
}

func printSysinfo(w io.Writer, env results.Environment, ortErr error) error {
	ort := env.OnnxruntimeVersion
	if ort == "" {
		ort = fmt.Sprintf("not loaded (%v)", ortErr)
	} else if env.OnnxruntimeLibrary != "" {
		ort += " (" + env.OnnxruntimeLibrary + ")"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := [][2]string{
		{"cpu", env.CPUModel},
		{"cores", fmt.Sprintf("%d physical, %d logical (host)", env.PhysicalCores, env.LogicalCores)},
	}
	rows = append(rows, coresRows(env)...)
	rows = append(rows, [][2]string{
		{"caches", env.Caches},
		{"memory", results.Bytes(env.MemoryBytes)},
		{"os", env.OS + " " + env.Arch},
		{"kernel", env.Kernel},
		{"go", env.GoVersion},
		{"gomaxprocs", fmt.Sprint(env.GOMAXPROCS)},
		{"onnxruntime", ort},
		{"git commit", env.GitCommit},
		{"hostname", env.Hostname},
	}...)
	for _, kv := range rows {
		if kv[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
		}
	}
	return tw.Flush()
}

// coresRows are the usable-core lines: "usable cores: 1 of 2 logical
// (1 physical; CPUs 0-1)", then the quota, cpuset, affinity, SMT, NUMA,
// core types, governor and turbo where known.
func coresRows(env results.Environment) [][2]string {
	c := env.Cores
	if c == nil {
		return nil
	}
	quota := ""
	if c.Quota > 0 {
		quota = strategy.QuotaWord(c.Quota) + " (" + c.QuotaSource + ")"
	}
	nodes := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		nodes[i] = fmt.Sprintf("node %d: CPUs %s, %s", n.ID, n.CPUs, results.Bytes(n.MemoryBytes))
	}
	return [][2]string{
		{"usable cores", fmt.Sprintf("%d of %d logical (%d physical; CPUs %s)", c.Usable, env.LogicalCores, c.UsablePhysical, c.CPUs)},
		{"cpu quota", quota},
		{"cpuset", c.Cpuset},
		{"affinity", c.Affinity},
		{"smt shared", c.SMTShared},
		{"numa", strings.Join(nodes, "; ")},
		{"core types", sysinfo.TypesText(c.Types)},
		{"governor", c.Governor},
		{"turbo", c.Turbo},
	}
}

// printCheck prints one line per finding, or one saying there are none.
func printCheck(w io.Writer, ctx context.Context) error {
	c := sysinfo.LiveCores()
	found := sysinfo.Check(sysinfo.CheckOptions{
		Cores: c, HostLogical: sysinfo.LogicalCores(ctx), HostPhysical: sysinfo.HostPhysicalCores("/"),
		Load: sysinfo.MeasureLoad(500 * time.Millisecond), LoadThreshold: checkLoadThreshold,
	})
	for _, f := range found {
		fmt.Fprintln(w, f)
	}
	if len(found) == 0 {
		fmt.Fprintln(w, "ok: nothing found that makes numbers measured here noisy or unrepresentative")
	}
	return nil
}

// checkLoadThreshold: other load above this many cores is a finding.
const checkLoadThreshold = 0.1
