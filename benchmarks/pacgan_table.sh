#!/usr/bin/env bash
# PacGAN Table 1's ring and grid columns with ganzoo's variants: `gan`, `pacgan2/3/4` and `sngan` at STEPS generator
# steps, `wgan-gp` at STEPS/5 (its 5 critic steps a generator step give it as many discriminator updates), SEEDS
# seeds each, one `ganzoo bench` per data set and recipe; each prints its table and writes OUT/DATA-NAME/report.md.
# Every run uses the PacGAN 2-D networks, 2-D noise and 100 inputs a discriminator step (sngan and wgan-gp at batch
# 100; PacGAN-m 100 packs of m samples). Running it again reuses finished runs; a larger STEPS continues them.
#
#   OMP_NUM_THREADS=1 STEPS=10000 SEEDS=3 bash benchmarks/pacgan_table.sh        # the 10,000-step CPU rows of docs/benchmarks.md
#   DEVICE=cuda STEPS=400000 SEEDS=10 bash benchmarks/pacgan_table.sh             # the paper's length, on a GPU
#   DATA=grid VARIANTS="gan pacgan4" bash benchmarks/pacgan_table.sh              # a part of it
#
# With RAY=ADDRESS (auto, HOST:PORT or ray://HOST:PORT of a running Ray cluster) every bench sends its runs there as
# Ray tasks and all the benches run at once, so the cluster's GPUs share the whole table; RAY_GPUS is each task's
# share of a GPU (0.25: four runs a GPU), RAY_CPUS its CPUs:
#
#   ray start --head --num-gpus 8
#   RAY=auto RAY_GPUS=0.25 DEVICE=cuda STEPS=400000 SEEDS=10 bash benchmarks/pacgan_table.sh
set -euo pipefail
PY=${PYTHON:-python3}
STEPS=${STEPS:-10000}
SEEDS=${SEEDS:-3}
DEVICE=${DEVICE:-auto}
OUT=${OUT:-bench/pacgan-table}
DATA=${DATA:-"ring grid"}
VARIANTS=${VARIANTS:-"gan pacgan2 pacgan3 pacgan4 sngan wgan-gp"}
RAY=${RAY:-}
common=(--seeds "$SEEDS" --device "$DEVICE" --no-progress)
if [ -n "$RAY" ]; then
    common+=(--ray "$RAY")
    if [ -n "${RAY_GPUS:-}" ]; then common+=(--ray-gpus "$RAY_GPUS"); fi
    if [ -n "${RAY_CPUS:-}" ]; then common+=(--ray-cpus "$RAY_CPUS"); fi
fi
pids=()
bench() {  # one `ganzoo bench`; on a Ray cluster in the background, beside the others
    if [ -n "$RAY" ]; then
        "$PY" -m ganzoo bench "$@" & pids+=($!)
    else
        "$PY" -m ganzoo bench "$@"
    fi
}
for data in $DATA; do
    packed=()
    for variant in $VARIANTS; do
        case $variant in
            gan|pacgan*) packed+=("$variant") ;;  # their own recipe is the paper's setting
            sngan) bench sngan --data "$data" --steps "$STEPS" --batch-size 100 "${common[@]}" \
                       --out "$OUT/$data-sngan" ;;
            wgan-gp) bench wgan-gp --data "$data" --steps $(( STEPS / 5 )) --batch-size 100 \
                         --set arch=mlp --set latent_dim=2 "${common[@]}" --out "$OUT/$data-wgan-gp" ;;
            *) echo "pacgan_table.sh: no PacGAN-table recipe for variant '$variant'" >&2; exit 2 ;;
        esac
    done
    if [ ${#packed[@]} -gt 0 ]; then
        bench "${packed[@]}" --data "$data" --steps "$STEPS" "${common[@]}" --out "$OUT/$data-gan"
    fi
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
