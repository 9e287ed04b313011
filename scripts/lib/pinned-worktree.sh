# Sourced by scripts/paper-grid.sh and scripts/sernn.sh: the git worktree a background experiment
# runs from, pinned to one commit so edits in the main checkout never change code under it.
#
#   pinned_worktree REPO ROOT RESULTS [COMMIT]
#
# COMMIT defaults to the first commit recorded in RESULTS/sweep.json (the committed results' own),
# else REPO's HEAD. Creates ROOT/worktree at it (node_modules linked from REPO) and ROOT/out
# seeded with the committed finished runs (their final.json marks them done), then sets $commit.
pinned_worktree() {
  local repo=$1 root=$2 results=$3
  commit=${4:-}
  if [ -z "$commit" ] && [ -f "$results/sweep.json" ]; then
    commit=$(node -e "const m=require(process.argv[1]);const c=m.invocations.map(i=>i.code&&i.code.commit).filter(Boolean);console.log(c[0]||'')" "$results/sweep.json")
  fi
  commit=${commit:-$(git -C "$repo" rev-parse HEAD)}
  # The worktree borrows REPO's packages; without them every run would fail with a module error.
  [ -d "$repo/node_modules" ] || { echo "$(basename "$0"): $repo/node_modules is missing; run scripts/setup.sh (or npm ci) there first" >&2; exit 1; }
  mkdir -p "$root/out"
  if [ ! -d "$root/worktree" ]; then
    git -C "$repo" worktree add --detach "$root/worktree" "$commit"
    ln -s "$repo/node_modules" "$root/worktree/node_modules"
  fi
  [ "$(git -C "$root/worktree" rev-parse HEAD)" = "$commit" ] || { echo "$(basename "$0"): $root/worktree is not at $commit" >&2; exit 1; }
  if [ -d "$results/runs" ]; then
    cp -rn "$results/runs" "$root/out/"
    cp -n "$results/sweep.json" "$root/out/" 2>/dev/null || true
  fi
}

# Copies one finished run's record (config.json, final.json, and metrics.csv when an epoch
# finished: a run that diverged in its first has none) from SRC to DEST, made if missing.
copy_run_record() {
  mkdir -p "$2"
  cp "$1/config.json" "$1/final.json" "$2/"
  if [ -f "$1/metrics.csv" ]; then cp "$1/metrics.csv" "$2/"; fi
}
