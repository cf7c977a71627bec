#!/usr/bin/env bash
# PacGAN's grid on one GPU within a time limit: `gan` and `pacgan4`, SEEDS seeds each (each variant's seeds in one
# process, captured together), side by side, up to STEPS steps or until DEADLINE seconds have passed (the runs then
# stop at their next step after a checkpoint), then `ganzoo eval` of every run. Prints one line per run and, last,
# one JSON object with every figure and the step each run reached.
#
#   bash benchmarks/pacgan_gpu.sh                          # SEEDS=5 STEPS=50000 DEADLINE=360 OUT=bench/pacgan-gpu
#   SEEDS=10 STEPS=400000 DEADLINE=3600 bash benchmarks/pacgan_gpu.sh   # the paper's table, given the time
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SEEDS=${SEEDS:-5}
STEPS=${STEPS:-50000}
DEADLINE=${DEADLINE:-360}
OUT=${OUT:-bench/pacgan-gpu}
VARIANTS=${VARIANTS:-"gan pacgan4"}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
start=$(date +%s)
pids=()
for variant in $VARIANTS; do
    "$PY" -m ganzoo train "$variant" --data grid --steps "$STEPS" --seeds "$SEEDS" --device "$DEVICE" \
        --log-every 1000 --sample-every "$STEPS" --ckpt-every 10000 --out "$OUT/$variant" > "$OUT/$variant.log" 2>&1 &
    pids+=($!)
done
while [ $(( $(date +%s) - start )) -lt "$DEADLINE" ]; do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 2
done
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done  # a stopped run writes a checkpoint first
wait
echo "training: $(( $(date +%s) - start )) s"
for variant in $VARIANTS; do
    for run in "$OUT/$variant"/seed*; do
        "$PY" -m ganzoo eval "$run" --device "$DEVICE" > "$run.eval.txt" 2>&1 || tail -1 "$run.eval.txt"
    done
done
"$PY" - "$OUT" $VARIANTS <<'PYEOF'
import json, statistics, sys
from pathlib import Path
out, variants = Path(sys.argv[1]), sys.argv[2:]
table = {}
for variant in variants:
    rows = []
    for run in sorted((out / variant).glob("seed*")):
        try:
            record = json.loads((run / "eval.json").read_text())[0]
        except (OSError, ValueError, IndexError, KeyError):
            continue
        values = record["values"]
        rows.append({"run": run.name, "step": record["protocol"]["step"], "modes": values["modes"],
                     "hq": round(values["hq"], 1), "rkl": round(values["rkl"], 3)})
        print(variant, rows[-1])
    summary = {}
    for key in ("modes", "hq", "rkl"):
        got = [r[key] for r in rows]
        if got:
            summary[key] = [round(statistics.mean(got), 3), round(statistics.stdev(got), 3) if len(got) > 1 else 0.0]
    table[variant] = {"runs": rows, "mean_sd": summary}
print(json.dumps(table))
PYEOF
