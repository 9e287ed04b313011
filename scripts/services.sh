#!/usr/bin/env bash
# Starts (or stops) the services the distributed-sweep tests use, on 127.0.0.1 only, from the
# Debian packages redis-server, munge, slurmctld, slurmd and slurm-client (scripts/install-system.sh
# installs them; this script installs nothing):
#
#   - a Redis server on port $CORTICAL_RNN_REDIS_PORT (default 6390), append-only persistence,
#     its own directory, daemonized;
#   - a one-node Slurm cluster: munged (as the munge user), slurmctld and slurmd, with a minimal
#     slurm.conf whose node is this host as `slurmd -C` describes it, on ports 6917/6918 so a
#     site's own Slurm (6817/6818) is left alone.
#
# Everything lives under $CORTICAL_RNN_SERVICES (default /tmp/cortical-rnn-services); the
# environment the tests need (CORTICAL_RNN_TEST_REDIS, SLURM_CONF) is written to its file `env`:
#   bash scripts/services.sh start && . /tmp/cortical-rnn-services/env
#   bash scripts/services.sh stop
# Needs root (munged runs as the munge user, slurmd as root).
set -euo pipefail
cmd=${1:-}
ROOT=${CORTICAL_RNN_SERVICES:-/tmp/cortical-rnn-services}
PORT=${CORTICAL_RNN_REDIS_PORT:-6390}
HOST=$(hostname -s)
SLURM=$ROOT/slurm
MUNGE_SOCKET=/run/munge/munge.socket.2

say() { echo "[services] $*"; }

# Waits up to $2 tenths of a second for command $1 to succeed.
wait_for() {
  local i
  for ((i = 0; i < $2; i++)); do
    if eval "$1" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

stop_pidfile() {
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait_for "! kill -0 $pid" 50 || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

start_redis() {
  mkdir -p "$ROOT/redis"
  if redis-cli -p "$PORT" ping >/dev/null 2>&1; then
    say "redis already answering on 127.0.0.1:$PORT"
    return
  fi
  redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes --daemonize yes \
    --dir "$ROOT/redis" --appendonly yes --appendfsync everysec --save '' \
    --pidfile "$ROOT/redis/redis.pid" --logfile "$ROOT/redis/redis.log"
  wait_for "redis-cli -p $PORT ping" 50 || {
    echo "[services] redis-server did not answer on 127.0.0.1:$PORT; see $ROOT/redis/redis.log" >&2
    exit 1
  }
  say "redis $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on 127.0.0.1:$PORT (append-only, $ROOT/redis)"
}

start_munge() {
  if [ -S "$MUNGE_SOCKET" ] && munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=128 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
  runuser -u munge -- munged --force
  wait_for "munge -n | unmunge" 50 || {
    echo "[services] munged did not start; see /var/log/munge/munged.log" >&2
    exit 1
  }
}

start_slurm() {
  start_munge
  mkdir -p "$SLURM/state" "$SLURM/spool"
  export SLURM_CONF=$SLURM/slurm.conf
  if [ -s "$SLURM/slurmctld.pid" ] && kill -0 "$(cat "$SLURM/slurmctld.pid")" 2>/dev/null && sinfo -h >/dev/null 2>&1; then
    say "slurm already running ($SLURM_CONF)"
    return
  fi
  # The node as slurmd sees it (CPUs, sockets, cores, memory), without the UpTime line.
  local node
  node=$(slurmd -C | grep '^NodeName=' | sed -E "s/^NodeName=[^ ]+/NodeName=$HOST/")
  cat >"$SLURM_CONF" <<EOF
# A one-node cluster on 127.0.0.1 for cortical-rnn's tests (scripts/services.sh).
ClusterName=cortical-rnn-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$SLURM/state
SlurmdSpoolDir=$SLURM/spool
SlurmctldPidFile=$SLURM/slurmctld.pid
SlurmdPidFile=$SLURM/slurmd.pid
SlurmctldLogFile=$SLURM/slurmctld.log
SlurmdLogFile=$SLURM/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  wait_for "sinfo -h -o %T | grep -Eq '^(idle|mixed|allocated)'" 150 || {
    echo "[services] slurm did not come up; see $SLURM/slurmctld.log and $SLURM/slurmd.log" >&2
    sinfo >&2 || true
    exit 1
  }
  say "slurm $(sinfo -V | awk '{print $2}'): node $HOST, partition debug ($SLURM_CONF)"
}

case "$cmd" in
  start)
    for b in redis-server redis-cli munged slurmctld slurmd sbatch; do
      command -v "$b" >/dev/null || {
        echo "[services] $b not found: install redis-server munge slurmctld slurmd slurm-client (scripts/install-system.sh)" >&2
        exit 1
      }
    done
    mkdir -p "$ROOT"
    start_redis
    start_slurm
    cat >"$ROOT/env" <<EOF
export CORTICAL_RNN_TEST_REDIS=redis://127.0.0.1:$PORT
export SLURM_CONF=$SLURM/slurm.conf
EOF
    say "environment for the tests: . $ROOT/env"
    ;;
  stop)
    if [ -f "$SLURM/slurm.conf" ]; then
      SLURM_CONF=$SLURM/slurm.conf scancel --user="$(id -un)" 2>/dev/null || true
    fi
    stop_pidfile "$SLURM/slurmd.pid"
    stop_pidfile "$SLURM/slurmctld.pid"
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$ROOT/env"
    say "stopped redis (127.0.0.1:$PORT) and slurm ($SLURM)"
    ;;
  *)
    echo "usage: scripts/services.sh start|stop" >&2
    exit 2
    ;;
esac
