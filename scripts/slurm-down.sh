#!/usr/bin/env bash
# slurm-down.sh: stop the single-node cluster scripts/slurm-up.sh started
# (slurmd, slurmctld, munged), each by the pid in its pid file. Stopping a
# cluster that is not running is not an error.
set -uo pipefail

# stop NAME PIDFILE: TERM the daemon, wait up to 10 s, then KILL it.
stop() {
  local name=$1 file=$2 pid
  [[ -s $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    echo "slurm-down: stopping $name ($pid)"
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "slurm-down: $name ($pid) still running after 10s: killing it"
      kill -9 "$pid" 2>/dev/null
    fi
  fi
  rm -f "$file"
}

stop slurmd /run/slurm/slurmd.pid
stop slurmctld /run/slurm/slurmctld.pid
stop munged /run/munge/munged.pid
exit 0
