#!/usr/bin/env bash
# The seRNN experiment at the committed scale (8 strengths × 5 seeds × 2 families), run in the
# background as scripts/paper-grid.sh runs the paper grid: niced, resumable, from a git worktree
# pinned to the commit recorded in docs/results/sernn/sweep.json (else HEAD).
#
#   scripts/sernn.sh start [COMMIT]   # worktree, seeded with the committed finished runs that kept
#                                     # their weights, then the sweep
#   scripts/sernn.sh collect          # config.json, metrics.csv, final.json and W_rec at epoch 9 and at
#                                     # the end per run (40 KB each at N = 100) + sweep.json + report
#   scripts/sernn.sh stop
#
# Work dir: $SERNN_ROOT (default /work/sernn): worktree/, out/ (all files), sernn.log.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${SERNN_ROOT:-/work/sernn}
results="$repo/docs/results/sernn"
# shellcheck source=scripts/lib/pinned-worktree.sh
. "$repo/scripts/lib/pinned-worktree.sh"
args=(--strengths "${SERNN_STRENGTHS:-8}" --seeds "${SERNN_SEEDS:-5}" --models-per-batch 1)
# SERNN_FILL adds evenly spaced strengths within a range, e.g. SERNN_FILL=seRNN=0.07-0.3x8
if [ -n "${SERNN_FILL:-}" ]; then args+=(--fill "$SERNN_FILL"); fi
case "${1:-}" in
  start)
    pinned_worktree "$repo" "$root" "$results" "${2:-}"
    # A committed run without its weights (trained before they were kept) is trained again: the
    # same seed and λ give the same numbers, and this time its W_rec files are kept.
    while IFS= read -r f; do
      d=$(dirname "$f")
      [ -f "$d/W_rec_epoch09.npy" ] || rm -rf "$d"
    done < <(find "$root/out/runs" -name final.json 2>/dev/null)
    (cd "$root/worktree" && nice -n 19 node bin/cortical-rnn.js sernn "${args[@]}" --out "$root/out") >>"$root/sernn.log" 2>&1 </dev/null &
    echo $! >"$root/pid"
    echo "sernn: running at $commit (pid $(cat "$root/pid")), log $root/sernn.log"
    ;;
  collect)
    # Weights at epoch 9 (the seRNN authors' analysis epoch) and at the end, so any metric can be
    # recomputed without retraining.
    keep() {
      for w in W_rec_epoch09.npy "$(last_epoch_weights "$1")"; do
        if [ -n "$w" ] && [ -f "$1/$w" ]; then cp "$1/$w" "$2/"; fi
      done
    }
    collect_runs "$root/out" "$results" keep
    node "$repo/bin/cortical-rnn.js" report "$results" >/dev/null
    echo "sernn: $collected finished runs and the report in $results ($(du -sh "$results" | cut -f1))"
    ;;
  stop)
    pid=$(cat "$root/pid" 2>/dev/null || true)
    [ -n "$pid" ] && pkill -TERM -P "$pid" 2>/dev/null; [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    echo "sernn: stopped"
    ;;
  *) echo "usage: scripts/sernn.sh start [COMMIT] | collect | stop" >&2; exit 2 ;;
esac
