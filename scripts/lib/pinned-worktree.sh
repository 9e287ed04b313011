# Sourced by scripts/paper-grid.sh, scripts/sernn.sh and scripts/v1.sh: the git worktree a background experiment
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
# finished: a run that diverged in its first has none) from SRC to DEST, made if missing. Only
# files newer than DEST's are copied: the work folder keeps the copies it was seeded with, which
# must not overwrite the committed records they came from (refilled or migrated since).
copy_run_record() {
  mkdir -p "$2"
  cp -u "$1/config.json" "$1/final.json" "$2/"
  if [ -f "$1/metrics.csv" ]; then cp -u "$1/metrics.csv" "$2/"; fi
}

# Copies every finished run of OUT into RESULTS: its record (copy_run_record), then whatever
# weights the experiment keeps (the function named KEEP, called with the run's source and
# destination folders), and merges OUT/sweep.json into RESULTS/sweep.json. Sets $collected.
collect_runs() {
  local out=$1 results=$2 keep=$3 d f
  collected=0
  while IFS= read -r f; do
    d=$(dirname "$f")
    copy_run_record "$out/$d" "$results/$d"
    "$keep" "$out/$d" "$results/$d"
    collected=$((collected + 1))
  done < <(cd "$out" && find runs -name final.json | sort)
  merge_manifest "$out/sweep.json" "$results/sweep.json"
}

# Merges sweep manifest SRC into DEST (made if missing): DEST's invocations and runs are kept
# (runs trained in other folders, such as a second process's, stay listed) and SRC's are added,
# a run's newer entry winning; invocations in time order.
merge_manifest() {
  node -e '
    const fs = require("fs");
    const [src, dest] = process.argv.slice(1);
    const a = JSON.parse(fs.readFileSync(src, "utf8"));
    const b = fs.existsSync(dest) ? JSON.parse(fs.readFileSync(dest, "utf8")) : { invocations: [], runs: {} };
    const key = (i) => `${i.startedAt} ${i.pid}`;
    const inv = new Map([...b.invocations, ...a.invocations].map((i) => [key(i), i]));
    const merged = { ...a, invocations: [...inv.values()].sort((x, y) => x.startedAt.localeCompare(y.startedAt)), runs: { ...b.runs, ...a.runs } };
    fs.writeFileSync(dest + ".tmp", JSON.stringify(merged, null, 2) + "\n");
    fs.renameSync(dest + ".tmp", dest);
  ' "$1" "$2"
}

# The name of the last W_rec_epochNN.npy in run folder DIR (nothing when no epoch finished).
last_epoch_weights() {
  ls "$1" | grep -E '^W_rec_epoch[0-9]+\.npy$' | sort | tail -n 1 || true
}
