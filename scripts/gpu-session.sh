#!/usr/bin/env bash
# One working session on a GPU machine, in the order a lab wants it, inside a fixed time budget:
# what the adapter is and whether every kernel family (every recurrent design included) computes
# right on it, the fixtures, the recurrent designs tuned for the grid's shapes (the table is
# kept, and the cache it fills is what the grid then uses), the benchmarks (PyTorch CUDA as the
# peer), then the paper-scale grid (field 6_6_2, 20 seeds) until the budget runs out. Everything lands in OUTDIR; a tarball of the logs and the grid's results (PACK,
# default OUTDIR/session.tar.gz) is rewritten after every stage, so a session cut short still
# hands back all it finished.
#
#   scripts/gpu-session.sh OUTDIR [SECONDS]        # default 540 s in all
#
# Environment: CORTICAL_RNN_DATA (the data folder), FIXTURES (default ../shared/fixtures),
# PYTHON (the interpreter that holds PyTorch with CUDA; default python3), MODELS_PER_BATCH
# (networks trained side by side in the grid; default 55, one seed block of a task), BENCH=0
# (skip the benchmarks, leaving the budget to the check and the grid).
#
# The grid runs from this checkout, whose commit is recorded in every run (CORTICAL_RNN_COMMIT
# overrides it where the checkout has no .git); finished runs are never redone, so a second
# session given the same grid folder resumes it.
set -uo pipefail
out=${1:?usage: scripts/gpu-session.sh OUTDIR [SECONDS]}
budget=${2:-540}
fixtures=${FIXTURES:-../shared/fixtures}
python=${PYTHON:-python3}
k=${MODELS_PER_BATCH:-55}
t0=$(date +%s)
mkdir -p "$out/logs"
grid="$out/grid"
pack_to=${PACK:-$out/session.tar.gz}

left() { echo $((budget - ($(date +%s) - t0))); }
pack() {
  # Results only: the grid's weights stay behind except seed 1 of W and W*D*C (the report's figures).
  tar -C "$out" -czf "$pack_to.tmp" logs $(cd "$out" && find grid -name sweep.json -o -name 'report.*' -o -name config.json -o -name metrics.csv -o -name final.json \
    -o \( -path '*/WsDsC/seed-1/*' -o -path '*/W/seed-1/*' \) \( -name 'positions_um.npy' -o -name 'W_rec_epoch*.npy' \) 2>/dev/null | sort) 2>/dev/null
  mv "$pack_to.tmp" "$pack_to"
}
# stage NAME SECONDS CMD...: runs CMD with a time limit, its output in logs/NAME.txt.
stage() {
  local name=$1 limit=$2 s rc
  shift 2
  [ "$(left)" -lt 20 ] && { echo "== $name skipped: budget spent"; return; }
  [ "$limit" -gt "$(left)" ] && limit=$(left)
  [ "$limit" -lt 1 ] && { echo "== $name skipped: budget spent"; return; }
  s=$(date +%s)
  echo "== $(date -u +%T) $name (limit ${limit} s)"
  timeout -k 5 "$limit" "$@" >"$out/logs/$name.txt" 2>&1
  rc=$?
  echo "   $name: exit $rc after $(($(date +%s) - s)) s"
  if [ -n "${GREP:-}" ]; then grep -m 5 -E "$GREP" "$out/logs/$name.txt"; else tail -n "${TAIL:-12}" "$out/logs/$name.txt"; fi | sed 's/^/   | /'
  pack
}
cli=(node bin/cortical-rnn.js)

echo "gpu-session: budget ${budget} s, out $out, commit ${CORTICAL_RNN_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv >"$out/logs/nvidia-smi.txt" 2>&1
TAIL=40 stage info 90 "${cli[@]}" info --selfcheck
# The grid's three shapes (inference T = 50, Go/NoGo 40, PDM 41) at one network and at a batch of
# K; the sweep would tune each shape on first use anyway, this puts the table in the logs.
export CORTICAL_RNN_TUNE_CACHE=${CORTICAL_RNN_TUNE_CACHE:-$out/logs/rnn-designs.json}
for task in inference gonogo pdm; do
  TAIL=20 stage "tune-$task" 60 "${cli[@]}" tune --task "$task" --units 312 --batch 128 --networks "1,$k" --budget 0.5
done
for f in rnn_bptt_ref regularizer_n24 regularizer_5_3_4; do
  [ -f "$fixtures/$f.json" ] && GREP='^  "(format|backend|pass)"' stage "verify-$f" 60 "${cli[@]}" verify "$fixtures/$f.json"
done
if [ "${BENCH:-1}" != 0 ]; then
  stage bench-matmul 60 "${cli[@]}" bench matmul --sizes 256,512,1024,2048 --out "$out/logs/bench-matmul.json"
  # PyTorch as a GPU user runs it, in one process: cuDNN nn.RNN, the eager loop, the loop as a CUDA
  # graph, and K networks batched with bmm (against the engine's K side by side).
  CORTICAL_RNN_PEERS_BMM_K=$k TAIL=24 stage bench-peers-paper 180 "${cli[@]}" bench peers --workload paper --peers torch-cuda --python "$python" --out "$out/logs/bench-peers-paper.json"
  TAIL=30 stage bench-profile-paper 90 "${cli[@]}" bench profile --workload paper --quick --out "$out/logs/bench-profile-paper.json"
  stage bench-multi 60 "${cli[@]}" bench multi --quick --out "$out/logs/bench-multi.json"
fi

# The grid, in the order of scripts/paper-grid.sh (both modes first, then Table 3 and the
# controls), five seeds a block so that every block is one batch per task.
blocks=(
  "paper paper 1 5" "corrected paper 1 5" "paper paper 1 5 --positive" "corrected extra 1 5"
  "paper paper 6 15" "corrected paper 6 15" "paper paper 6 15 --positive" "corrected extra 6 15"
)
for b in "${blocks[@]}"; do
  read -r mode variants from count extra <<<"$b"
  # shellcheck disable=SC2086
  # 30 s stay for the report, which the last block would otherwise spend.
  TAIL=4 stage "grid-$mode-$variants-$from${extra:+-positive}" "$(($(left) - 30))" "${cli[@]}" sweep --data "${CORTICAL_RNN_DATA:-../shared/data}" \
    --field 6_6_2 --tasks all --variants "$variants" --mode "$mode" --seeds "$count" --seed-start "$from" \
    --models-per-batch "$k" --out "$grid" $extra
done
# The grid's report (Table 2, what the modules follow, the claims): a few seconds for 20 seeds.
[ -d "$grid/runs" ] && TAIL=2 stage report 30 "${cli[@]}" report "$grid"
pack
echo "gpu-session: done after $(($(date +%s) - t0)) s; $(cd "$out" && find grid -name final.json 2>/dev/null | wc -l) grid runs finished"
