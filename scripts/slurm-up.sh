#!/usr/bin/env bash
# slurm-up.sh: a real single-node Slurm cluster on this machine, for the
# Slurm tests (runner/fleet) and for trying `ortbench fleet slurm` by hand.
#
#   bash scripts/slurm-up.sh     # install (Debian's slurm-wlm + munge) if missing, configure, start, wait
#   sbatch --wrap hostname       # then use it
#   bash scripts/slurm-down.sh   # stop the daemons
#
# It runs munged, slurmctld and slurmd directly as daemons (no systemd: this
# is meant for containers and CI machines), with one node named after this host's
# short name, its CPUs and a little less than its memory, in one partition
# "ortbench". srun binds each task to the CPUs it was given
# (--cpus-per-task, --cpu-bind): task/affinity sets the affinity mask, and
# where cgroup v1's cpuset controller is mounted (this project's VM)
# task/cgroup also confines the task to a cpuset (proctrack/cgroup,
# /etc/slurm/cgroup.conf ConstrainCores=yes); on cgroup v2 the cgroup
# plugin wants systemd's dbus, which a container lacks, so only the
# affinity mask is set there. Running it again while the cluster is up does nothing but check
# it; a daemon that died is started again. It needs root.
#
# Environment: SLURM_UP_TIMEOUT (seconds to wait for the node, default 60).
set -euo pipefail

timeout=${SLURM_UP_TIMEOUT:-60}
conf_dir=/etc/slurm
conf=$conf_dir/slurm.conf
log_dir=/var/log/slurm
state_dir=/var/lib/slurm/slurmctld
spool_dir=/var/lib/slurm/slurmd
run_dir=/run/slurm
munge_key=/etc/munge/munge.key

say() { echo "slurm-up: $*"; }
die() { echo "slurm-up: $*" >&2; exit 1; }

# show_logs prints the tail of every daemon's log, for a failure message.
show_logs() {
  local f
  for f in "$log_dir/slurmctld.log" "$log_dir/slurmd.log" /var/log/munge/munged.log; do
    if [[ -s $f ]]; then
      echo "---- last lines of $f" >&2
      tail -n 25 "$f" >&2
    fi
  done
}

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq slurm-wlm munge >/dev/null || die "apt-get install slurm-wlm munge failed"
fi

# pid_alive FILE: the pid in FILE names a running process.
pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# started FILE: wait up to 10 s for a daemon that has just forked to write
# its pid file (until then the file is missing, or names the process that
# was stopped, and the daemon would look dead).
started() { for _ in $(seq 1 40); do pid_alive "$1" && return 0; sleep 0.25; done; return 1; }

# node_state prints the node's state as sinfo sees it ("" if the controller does not answer).
node_state() { timeout 10 sinfo -h -N -n "$node" -o '%T' 2>/dev/null | head -n1 || true; }

node=$(hostname -s)
[[ -n $node ]] || die "no short host name (hostname -s is empty)"

# 2. Configuration. The node line comes from `slurmd -C` (this machine's
# real topology, so slurmd does not drain the node for a mismatch), with the
# CPU count checked against nproc and RealMemory lowered by 5% (at least
# 256 MiB) so that memory the kernel reserves does not drain it either.
cpus=$(nproc)
mem_mib=$(awk '/^MemTotal:/ {print int($2/1024)}' /proc/meminfo)
spare=$(( mem_mib / 20 )); (( spare >= 256 )) || spare=256
real_mem=$(( mem_mib - spare )); (( real_mem >= 64 )) || real_mem=64
topology=$(slurmd -C 2>/dev/null | head -n1 || true)
if [[ $topology =~ CPUs=([0-9]+) ]] && [[ ${BASH_REMATCH[1]} == "$cpus" ]] && [[ $topology =~ (Boards=[0-9]+\ SocketsPerBoard=[0-9]+\ CoresPerSocket=[0-9]+\ ThreadsPerCore=[0-9]+) ]]; then
  node_hw="CPUs=$cpus ${BASH_REMATCH[1]}"
else
  node_hw="CPUs=$cpus"   # slurmd -C disagrees with nproc (a cpuset): use the CPUs we may run on
fi
# A host name that does not resolve would keep slurmd and slurmctld apart.
addr=127.0.0.1
if getent hosts "$node" >/dev/null 2>&1; then addr=$(getent hosts "$node" | awk '{print $1; exit}'); fi

# CPU binding: the affinity mask always, a cpuset where cgroup v1 has one.
task_plugin=task/affinity proctrack=proctrack/linuxproc
cgroup_conf=$conf_dir/cgroup.conf
new_cgroup_conf=""
if [[ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]]; then
  task_plugin=task/cgroup,task/affinity proctrack=proctrack/cgroup
  new_cgroup_conf=$(printf '%s\n' "# Written by ortbench scripts/slurm-up.sh: confine each task to its CPUs (cgroup v1 cpuset)." \
    CgroupPlugin=cgroup/v1 CgroupMountpoint=/sys/fs/cgroup ConstrainCores=yes ConstrainRAMSpace=no)
fi

mkdir -p "$conf_dir" "$log_dir" "$state_dir" "$spool_dir" "$run_dir"
new_conf=$(cat <<EOF
# Written by ortbench scripts/slurm-up.sh: a single-node cluster on localhost.
ClusterName=ortbench
SlurmctldHost=$node($addr)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=$proctrack
TaskPlugin=$task_plugin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# A job whose dependency can never be met (afterok on a failed job) is
# cancelled instead of waiting for ever.
DependencyParameters=kill_invalid_depend
ReturnToService=2
# Finished jobs stay visible to scontrol for 5 minutes (there is no accounting database).
MinJobAge=300
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$state_dir
SlurmdSpoolDir=$spool_dir
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node NodeAddr=$addr $node_hw RealMemory=$real_mem State=UNKNOWN
PartitionName=ortbench Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
)
changed=0
if [[ ! -f $conf ]] || [[ $(cat "$conf") != "$new_conf" ]]; then
  printf '%s\n' "$new_conf" > "$conf"
  changed=1
fi
if [[ -n $new_cgroup_conf ]]; then
  if [[ ! -f $cgroup_conf ]] || [[ $(cat "$cgroup_conf") != "$new_cgroup_conf" ]]; then
    printf '%s\n' "$new_cgroup_conf" > "$cgroup_conf"
    changed=1
  fi
elif [[ -f $cgroup_conf ]] && grep -q 'ortbench scripts/slurm-up.sh' "$cgroup_conf"; then
  rm -f "$cgroup_conf"; changed=1
fi

# 3. munge: a key (Debian's package makes one; make it if it is missing),
# then munged as the munge user.
if [[ ! -s $munge_key ]]; then
  say "creating the munge key"
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$munge_key" --force
  else
    dd if=/dev/urandom of="$munge_key" bs=1 count=1024 status=none
  fi
fi
chown munge:munge /etc/munge "$munge_key" 2>/dev/null || true
chmod 0700 /etc/munge; chmod 0400 "$munge_key"
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
chmod 0755 /run/munge
if ! pid_alive /run/munge/munged.pid; then
  say "starting munged"
  rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- munged || { show_logs; die "munged did not start"; }
  else
    munged --force || { show_logs; die "munged did not start"; }
  fi
fi
for _ in $(seq 1 20); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.25; done
munge -n </dev/null | unmunge >/dev/null 2>&1 || { show_logs; die "munge does not work (munge -n | unmunge failed)"; }

# 4. slurmctld and slurmd (each daemonizes itself). A changed configuration
# restarts them.
if (( changed )); then
  for d in slurmd slurmctld; do
    if pid_alive "$run_dir/$d.pid"; then
      say "configuration changed: restarting $d"
      kill "$(cat "$run_dir/$d.pid")" || true
      for _ in $(seq 1 40); do pid_alive "$run_dir/$d.pid" || break; sleep 0.25; done
      rm -f "$run_dir/$d.pid"
    fi
  done
fi
if ! pid_alive "$run_dir/slurmctld.pid"; then
  say "starting slurmctld"
  slurmctld || { show_logs; die "slurmctld did not start"; }
  started "$run_dir/slurmctld.pid" || { show_logs; die "slurmctld wrote no pid file naming a live process within 10s"; }
fi
if ! pid_alive "$run_dir/slurmd.pid"; then
  say "starting slurmd"
  slurmd || { show_logs; die "slurmd did not start"; }
  started "$run_dir/slurmd.pid" || { show_logs; die "slurmd wrote no pid file naming a live process within 10s"; }
fi

# 5. Wait until the node is usable. A node left down or drained by an
# earlier run is resumed.
deadline=$(( SECONDS + timeout ))
state=""
while (( SECONDS < deadline )); do
  state=$(node_state)
  case $state in
    idle|mixed|allocated|completing) break ;;
    down*|drain*|drained*|fail*)
      timeout 10 scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  pid_alive "$run_dir/slurmctld.pid" || { show_logs; die "slurmctld exited"; }
  pid_alive "$run_dir/slurmd.pid" || { show_logs; die "slurmd exited"; }
  sleep 1
done
case $state in
  idle|mixed|allocated|completing) ;;
  *)
    reason=$(timeout 10 sinfo -h -N -n "$node" -o '%E' 2>/dev/null || true)
    show_logs
    die "node $node is not up after ${timeout}s (state: '${state:-no answer from slurmctld}'${reason:+, reason: $reason})" ;;
esac
say "cluster up: node $node ($node_hw, RealMemory=${real_mem}M) is $state in partition ortbench"
