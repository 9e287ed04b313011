#!/usr/bin/env bash
# The paper-scale grid (field 6_6_2, 11 variants × 3 tasks), run in the background as a lab would:
# resumable, niced, one seed at a time so whole seeds finish first, from a git worktree pinned to
# one commit (so edits in the main checkout never change the code under the running grid).
#
#   scripts/paper-grid.sh start [COMMIT]   # worktree at COMMIT (default: the commit recorded in
#                                          # docs/results/6_6_2/sweep.json, else HEAD), seeded with
#                                          # the committed finished runs, then the grid in the background
#   scripts/paper-grid.sh collect          # copy finished runs into docs/results/6_6_2 (no bulk)
#   scripts/paper-grid.sh stop
#
# Work dir: $GRID_ROOT (default /work/grid): worktree/ (the pinned code), out/ (the sweep
# directory with all weights), grid.log. Finished runs are never redone: a run is done when its
# final.json exists, and `start` copies the committed ones back before resuming.
#
# One network at a time (--models-per-batch 1). At N = 312 on llvmpipe, 11 networks side by side
# took 1.18 s per network-step (inference, T = 50). One network alone took 0.80 s per step
# (gonogo, T = 40), which is about 1.0 s at T = 50, so batching gains nothing there. Single runs
# also finish every few minutes, so a stop loses little. Results are bit-identical either way.
#
# llvmpipe's threads flush subnormal floats (scripts/flush-subnormals.sh) unless
# GRID_FLUSH_SUBNORMALS=0. Networks whose weights shrink under the L1 cost (W, WD, WD*) otherwise
# ran 2-3.5x slower per epoch once their gradients decayed through the subnormal range; replays
# of finished runs with flushing were bit-identical (docs/results/6_6_2/README.md).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${GRID_ROOT:-/work/grid}
results="$repo/docs/results/6_6_2"
cmd=${1:-}
# shellcheck source=scripts/lib/pinned-worktree.sh
. "$repo/scripts/lib/pinned-worktree.sh"

# The order of work: both modes for seeds 1-3, then Table 3 and the controls, then more seeds.
# A positive-only seed runs the two fully constrained variants first: the positive-retained
# claim compares only those, so it is decided a seed sooner when work stops mid-seed.
positive() { echo "paper W*D*C,W*D*C* $1 --positive"; echo "paper paper $1 --positive"; }
steps() {
  for s in 1 2 3; do echo "paper paper $s"; echo "corrected paper $s"; done
  for s in 1 2 3; do positive "$s"; done
  for s in 1 2 3; do echo "corrected extra $s"; done
  for s in 4 5; do echo "paper paper $s"; echo "corrected paper $s"; done
  # The controls and positive-only recurrence at seeds 4 and 5, so that every claim rests on 5 seeds.
  for s in 4 5; do echo "corrected extra $s"; done
  for s in 4 5; do positive "$s"; done
  for s in $(seq 6 20); do echo "paper paper $s"; echo "corrected paper $s"; positive "$s"; done
}

case "$cmd" in
  start)
    pinned_worktree "$repo" "$root" "$results" "${2:-}"
    data=${CORTICAL_RNN_DATA:-$(cd "$repo/../shared/data" && pwd)}
    flush=() flushed=no
    [ "${GRID_FLUSH_SUBNORMALS:-1}" = 0 ] || { flush=("$repo/scripts/flush-subnormals.sh"); flushed=yes; }
    (
      cd "$root/worktree"
      steps | while read -r mode variants seed extra; do
        echo "== $(date -u +%FT%TZ) $mode $variants seed $seed $extra (subnormals flushed: $flushed)"
        # shellcheck disable=SC2086
        nice -n 19 ${flush[@]+"${flush[@]}"} node bin/cortical-rnn.js sweep --data "$data" --field 6_6_2 --tasks all --variants "$variants" \
          --mode "$mode" --seeds 1 --seed-start "$seed" --models-per-batch "${GRID_MODELS_PER_BATCH:-1}" --out "$root/out" $extra
      done
    ) >>"$root/grid.log" 2>&1 </dev/null &
    echo $! >"$root/grid.pid"
    echo "paper-grid: running at $commit (pid $(cat "$root/grid.pid")), log $root/grid.log"
    ;;
  collect)
    # Per finished run: config.json, final.json, metrics.csv; weights (last W_rec, positions) for
    # seed 1 of W*D*C and W, which the report's figures use. sweep.json is merged, not replaced.
    keep() {
      case "$1" in */WsDsC/seed-1|*/W/seed-1)
        last=$(last_epoch_weights "$1")
        if [ -n "$last" ]; then cp "$1/$last" "$1/positions_um.npy" "$2/"; fi ;;
      esac
    }
    collect_runs "$root/out" "$results" keep
    echo "paper-grid: $collected finished runs in $results ($(du -sh "$results" | cut -f1))"
    ;;
  stop)
    pid=$(cat "$root/grid.pid" 2>/dev/null || true)
    [ -n "$pid" ] && pkill -TERM -P "$pid" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    pkill -f "cortical-rnn.js sweep --data .* --field 6_6_2" 2>/dev/null || true
    echo "paper-grid: stopped"
    ;;
  *) echo "usage: scripts/paper-grid.sh start [COMMIT] | collect | stop" >&2; exit 2 ;;
esac
