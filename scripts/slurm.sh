#!/usr/bin/env bash
# A one-node Slurm on 127.0.0.1 for testing `genmodel run --executor slurm`:
# Debian's slurm-wlm and munge, the controller and the node on this machine,
# started by running munged, slurmctld and slurmd directly (no systemd), no
# accounting database (so no sacct: genmodel reads squeue and its own files).
#
#   scripts/slurm.sh install   # apt-get install slurm-wlm munge (root)
#   scripts/slurm.sh start     # write /etc/slurm/slurm.conf, start the daemons, wait for the node
#   scripts/slurm.sh stop      # stop the daemons this script started
#   scripts/slurm.sh status    # sinfo
#
# It runs as root, as the daemons need. It writes /etc/slurm/slurm.conf only
# when that file is missing or was written by this script, so a real
# cluster's configuration is never touched.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by genmodel scripts/slurm.sh"
STATE=/var/lib/genmodel-slurm

die() { echo "slurm.sh: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (the Slurm daemons run as root here)"; }

install() {
  need_root install
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    echo "slurm-wlm and munge are installed"
    return
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: no package mirror reachable"
  apt-get install -y -qq slurm-wlm munge >/dev/null || die "apt-get install slurm-wlm munge failed"
  echo "installed slurm-wlm and munge"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; not touching a real cluster's configuration"
  fi
  local cpus mem node
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  node=$(hostname -s)
  mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" /var/log/slurm
  cat > "$CONF" <<EOF
$MARK
ClusterName=genmodel
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MinJobAge=60
KillWait=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

stop_daemons() {
  pkill -x slurmd || true
  pkill -x slurmctld || true
  for _ in $(seq 20); do { pgrep -x slurmd || pgrep -x slurmctld; } >/dev/null || break; sleep 0.5; done
}

start() {
  need_root start
  command -v slurmctld >/dev/null || die "Slurm is not installed: run scripts/slurm.sh install"
  write_conf
  [ -s /etc/munge/munge.key ] || die "/etc/munge/munge.key is missing: reinstall munge (its package makes the key)"
  # A munged left from an earlier install may run without its socket or
  # key: test it by a round trip, and restart it when that fails.
  if ! munge_works; then
    pkill -x munged || true
    sleep 0.5
    mkdir -p /run/munge
    chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 20); do munge_works && break; sleep 0.5; done
    munge_works || die "munged does not answer; see /var/log/munge/munged.log"
  fi
  # Daemons started before munge worked never registered: start afresh.
  stop_daemons
  slurmctld
  slurmd
  local node state
  node=$(hostname -s)
  for _ in $(seq 60); do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    case "$state" in
      idle*|mixed*|allocated*) echo "slurm is up: node $node $state"; return ;;
      down*|drain*) scontrol update nodename="$node" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
  done
  die "the node did not come up in 60 s (state '${state:-unknown}'); see /var/log/slurm/slurmctld.log and slurmd.log"
}

stop() {
  need_root stop
  # Only the daemons of this script's configuration.
  if [ -f "$CONF" ] && grep -qF "$MARK" "$CONF"; then
    stop_daemons
    echo "slurm stopped"
  else
    echo "no Slurm of this script's to stop"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) sinfo; squeue ;;
  *) die "usage: scripts/slurm.sh install|start|stop|status" ;;
esac
