#!/usr/bin/env bash
# GPU figures in one call on one H100/H200: the plain-PyTorch anchor (cuda_graph_anchor.py), ganzoo's own step
# (eager, captured, compiled + captured) held against it, the default `ganzoo train --device cuda`, one and ten
# seeds trained together, and (FULL=1, the default) a full-length 400,000-step PacGAN `gan` run on the grid.
# The last line printed is one JSON object with every figure. On one H200 the whole script took 7 min (418 s),
# 4 min 22 s of it the full-length run.
#
#   bash benchmarks/gpu.sh                       # ANCHOR=path names the anchor script (looked for in ../shared/perf/)
#   FULL=0 bash benchmarks/gpu.sh                # everything but the full-length run (about 2.5 minutes)
#   FULL_TIMEOUT=300 bash benchmarks/gpu.sh      # stop the full-length run after 300 s (its log says how far it got);
#                                                # FULL_UNTIL=EPOCH_SECONDS stops it at that time instead
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${GPU_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
ANCHOR=${ANCHOR:-}
for candidate in "$ANCHOR" ../shared/perf/cuda_graph_anchor.py shared/perf/cuda_graph_anchor.py; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then ANCHOR=$candidate; break; fi
done
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

echo "== anchor: plain PyTorch, eager and one CUDA graph ($ANCHOR)"
if [ -f "$ANCHOR" ]; then timeout 180 "$PY" "$ANCHOR" | tee "$OUT/anchor.txt"; else echo "no anchor script found" | tee "$OUT/anchor.txt"; fi

echo "== ganzoo's step: eager, captured, compiled + captured"
timeout 300 "$PY" benchmarks/gpu_step.py --anchor "$OUT/anchor.txt" | tee "$OUT/step.txt"

echo "== the default run: ganzoo train --device cuda"
start=$(now_ms)
timeout 120 "$PY" -m ganzoo train --device cuda --out "$OUT/default" > "$OUT/default.txt" 2>&1
default_rc=$?
default_ms=$(( $(now_ms) - start ))
tail -5 "$OUT/default.txt"

echo "== one and ten seeds of the mlp PacGAN setting trained together (2,000 steps each)"
timeout 180 "$PY" benchmarks/seeds.py --device cuda --steps 2000 --seeds 1,10 2>&1 | tee "$OUT/seeds.txt"

full_ms=null
full_rc=null
if [ "${FULL:-1}" != 0 ]; then
    echo "== full length: gan on grid, 400,000 steps"
    limit=${FULL_TIMEOUT:-900}
    if [ -n "${FULL_UNTIL:-}" ]; then limit=$(( FULL_UNTIL - $(date +%s) )); fi
    start=$(now_ms)
    timeout "$limit" "$PY" -m ganzoo train gan --data grid --steps 400000 --device cuda --log-every 2000 \
        --sample-every 100000 --ckpt-every 100000 --out "$OUT/grid400k" > "$OUT/grid400k.txt" 2>&1
    full_rc=$?
    full_ms=$(( $(now_ms) - start ))
    tail -4 "$OUT/grid400k.txt"
    if [ "$full_rc" = 0 ]; then timeout 120 "$PY" -m ganzoo eval "$OUT/grid400k" 2>&1 | tail -4; fi
fi

"$PY" - "$OUT" "$default_ms" "$default_rc" "$full_ms" "$full_rc" <<'PYEOF'
import json, sys
out, default_ms, default_rc, full_ms, full_rc = sys.argv[1:6]
def last_json(name):
    try:
        lines = [line for line in open(f"{out}/{name}") if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}
    except OSError:
        return {}
result = last_json("step.txt")
result["default_train_wall_s"] = round(int(default_ms) / 1000, 1) if default_rc == "0" else f"failed ({default_rc})"
if full_ms != "null":
    result["grid_400k_wall_s" if full_rc == "0" else "grid_400k_stopped_after_s"] = round(int(full_ms) / 1000, 1)
result.update({f"seeds_{k}": v for k, v in last_json("seeds.txt").items() if k not in ("device",)})
print(json.dumps(result))
PYEOF
