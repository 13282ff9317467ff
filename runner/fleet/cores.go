package fleet

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// What a shard is given is what it counts with: ortbench resolves every
// automatic count (threads: 0, workers: 0) from its usable cores
// (runner/sysinfo: affinity ∩ cpuset, capped by the cgroup's CPU quota),
// never from the node's. A K8s shard's CPU limit becomes its container's
// CFS quota (the kubelet writes limit × 100000 µs per 100000 µs period into
// cpu.max or cpu.cfs_quota_us; with the static CPU manager and a whole
// number, also a cpuset); a Slurm shard's --cpus-per-task becomes its
// step's cpuset (task/cgroup) and affinity mask (--cpu-bind=cores).

// KubeletPeriodMicros is the CFS period the kubelet writes with a limit.
const KubeletPeriodMicros = 100000

// CPUQuota is the CFS quota in µs per KubeletPeriodMicros that the kubelet
// writes for a CPU limit ("2", "1.5", "1500m"), as its MilliCPUToQuota
// does; an error for anything Kubernetes would not take as a CPU quantity.
func CPUQuota(cpu string) (int64, error) {
	milli, err := milliCPU(cpu)
	if err != nil {
		return 0, err
	}
	return milli * KubeletPeriodMicros / 1000, nil
}

// milliCPU parses a CPU quantity into millicores (> 0).
func milliCPU(s string) (int64, error) {
	bad := fmt.Errorf("--cpu %q: want a CPU quantity such as 2, 1.5 or 1500m", s)
	if m, ok := strings.CutSuffix(s, "m"); ok {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil || n <= 0 {
			return 0, bad
		}
		return n, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v > 1e6 || strings.ContainsAny(s, "eEx+-") {
		return 0, bad
	}
	milli := math.Round(v * 1000)
	if math.Abs(v*1000-milli) > 1e-6 {
		return 0, fmt.Errorf("--cpu %q: Kubernetes allows at most millicore precision (e.g. 1.5 or 1500m)", s)
	}
	return int64(milli), nil
}
