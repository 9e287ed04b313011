#!/usr/bin/env bash
# The V1 population experiment on the CPU adapter, in the background as scripts/paper-grid.sh
# runs the paper grid: niced, resumable, one seed at a time, from a git worktree pinned to the
# commit recorded in docs/results/v1l234/sweep.json (else HEAD). The four quick-preset variants
# on one task, corrected mode (the only mode of field v1l234), as many seeds as time allows.
#
#   scripts/v1.sh start [COMMIT]   # worktree, seeded with the committed finished runs, then seeds 1, 2, …
#   scripts/v1.sh collect          # config.json, metrics.csv, final.json per run; the last W_rec of
#                                  # seed 1 (17 MB each at N = 2,115); sweep.json; the report
#   scripts/v1.sh stop
#
# V1_TASK (default gonogo), V1_SEEDS (default 5) and V1_PROTOCOL (default --quick) choose the work.
# Work dir: $V1_ROOT (default /work/v1): worktree/, out/, v1.log.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${V1_ROOT:-/work/v1}
results="$repo/docs/results/v1l234"
# shellcheck source=scripts/lib/pinned-worktree.sh
. "$repo/scripts/lib/pinned-worktree.sh"
task=${V1_TASK:-gonogo}
seeds=${V1_SEEDS:-5}
case "${1:-}" in
  start)
    pinned_worktree "$repo" "$root" "$results" "${2:-}"
    data=${CORTICAL_RNN_DATA:-$(cd "$repo/../shared/data" && pwd)}
    (
      cd "$root/worktree"
      for seed in $(seq 1 "$seeds"); do
        echo "== $(date -u +%FT%TZ) v1l234 $task seed $seed"
        # shellcheck disable=SC2086
        nice -n 19 node bin/cortical-rnn.js sweep --data "$data" --field v1l234 --tasks "$task" --variants 'W,WD*C,W*D*C,W*D*C*' \
          --mode corrected --seeds 1 --seed-start "$seed" ${V1_PROTOCOL:---quick} --out "$root/out"
      done
    ) >>"$root/v1.log" 2>&1 </dev/null &
    echo $! >"$root/pid"
    echo "v1: running at $commit (pid $(cat "$root/pid")), log $root/v1.log"
    ;;
  collect)
    # The last W_rec and the positions of seed 1's runs, for the report's figures.
    keep() {
      case "$1" in */seed-1)
        last=$(last_epoch_weights "$1")
        if [ -n "$last" ]; then cp "$1/$last" "$1/positions_um.npy" "$2/"; fi ;;
      esac
    }
    collect_runs "$root/out" "$results" keep
    node "$repo/bin/cortical-rnn.js" report "$results" >/dev/null
    echo "v1: $collected finished runs and the report in $results ($(du -sh "$results" | cut -f1))"
    ;;
  stop)
    pid=$(cat "$root/pid" 2>/dev/null || true)
    [ -n "$pid" ] && pkill -TERM -P "$pid" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    pkill -f "cortical-rnn.js sweep --data .* --field v1l234" 2>/dev/null || true
    echo "v1: stopped"
    ;;
  *) echo "usage: scripts/v1.sh start [COMMIT] | collect | stop" >&2; exit 2 ;;
esac
