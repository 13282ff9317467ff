#!/usr/bin/env bash
# Writes the sysfs/procfs fixture trees of README.md (run from this folder).
# Written by hand from the kernel's documented layout; see README.md.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf two-node hybrid biglittle

w() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" >"$1"; }

# --- two-node: 2 sockets × 4 cores × 2 threads (16 CPUs), Intel numbering:
# cpu0-3 socket 0, cpu4-7 socket 1, cpu8-15 their second hyper-threads.
r=two-node
w $r/sys/devices/system/cpu/online 0-15
w $r/sys/devices/system/cpu/intel_pstate/no_turbo 0
for c in $(seq 0 15); do
  core=$((c % 8)); pkg=$((core / 4))
  d=$r/sys/devices/system/cpu/cpu$c
  w $d/topology/thread_siblings_list "$core,$((core + 8))"
  w $d/topology/core_id $((core % 4))
  w $d/topology/physical_package_id $pkg
  w $d/cpufreq/scaling_governor powersave
done
w $r/sys/devices/system/node/node0/cpulist 0-3,8-11
w $r/sys/devices/system/node/node1/cpulist 4-7,12-15
for n in 0 1; do
  w $r/sys/devices/system/node/node$n/meminfo "Node $n MemTotal:       65799236 kB
Node $n MemFree:        61234567 kB
Node $n MemUsed:         4564669 kB"
done
# cgroup v2 only (a systemd slice): the quota is on the parent (4 cores),
# the leaf says max.
w $r/proc/self/cgroup "0::/system.slice/bench.service"
w $r/proc/self/mountinfo "24 29 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
28 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot"
w $r/sys/fs/cgroup/system.slice/cpu.max "400000 100000"
w $r/sys/fs/cgroup/system.slice/bench.service/cpu.max "max 100000"
w $r/sys/fs/cgroup/system.slice/bench.service/cpuset.cpus.effective 0-15

# --- hybrid: Intel Core i7-12700 (Alder Lake), 8 performance cores with
# hyper-threading (cpu0-15, siblings 0,1 … 14,15) and 4 efficiency cores
# (cpu16-19); one node. Inside a Docker container (cgroup v1, the
# container's cgroup mounted as the hierarchy's root) with --cpus=1.5.
r=hybrid
w $r/sys/devices/system/cpu/online 0-19
w $r/sys/devices/system/cpu/intel_pstate/no_turbo 1
for c in $(seq 0 19); do
  d=$r/sys/devices/system/cpu/cpu$c
  if [ $c -lt 16 ]; then sib="$((c / 2 * 2)),$((c / 2 * 2 + 1))"; else sib=$c; fi
  w $d/topology/thread_siblings_list "$sib"
  w $d/topology/physical_package_id 0
  w $d/cpufreq/scaling_governor performance
done
w $r/sys/devices/cpu_core/cpus 0-15
w $r/sys/devices/cpu_atom/cpus 16-19
w $r/sys/devices/system/node/node0/cpulist 0-19
w $r/sys/devices/system/node/node0/meminfo "Node 0 MemTotal:       32559924 kB"
w $r/proc/self/cgroup "12:cpuset:/docker/4f1c2a
5:cpu,cpuacct:/docker/4f1c2a
1:name=systemd:/docker/4f1c2a
0::/docker/4f1c2a"
w $r/proc/self/mountinfo "700 699 0:60 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
701 700 0:61 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
705 701 0:33 /docker/4f1c2a /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime master:14 - cgroup cgroup rw,cpu,cpuacct
710 701 0:38 /docker/4f1c2a /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime master:19 - cgroup cgroup rw,cpuset"
w $r/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 150000
w $r/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us 100000
w $r/sys/fs/cgroup/cpuset/cpuset.cpus 0-19
w $r/sys/fs/cgroup/cpuset/cpuset.effective_cpus 0-19

# --- biglittle: an Arm SoC (Rockchip RK3588's layout) with 4 Cortex-A55
# (cpu0-3, cpu_capacity 414) and 4 Cortex-A76 (cpu4-7, 1024); no SMT; no
# cgroup limit; cpufreq with the schedutil governor and boost off.
r=biglittle
w $r/sys/devices/system/cpu/online 0-7
w $r/sys/devices/system/cpu/cpufreq/boost 0
for c in $(seq 0 7); do
  d=$r/sys/devices/system/cpu/cpu$c
  w $d/topology/thread_siblings_list $c
  if [ $c -lt 4 ]; then w $d/cpu_capacity 414; else w $d/cpu_capacity 1024; fi
  w $d/cpufreq/scaling_governor schedutil
done
w $r/sys/devices/system/node/node0/cpulist 0-7
w $r/sys/devices/system/node/node0/meminfo "Node 0 MemTotal:       16084020 kB"
w $r/proc/self/cgroup "0::/"
w $r/proc/self/mountinfo "28 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw"
