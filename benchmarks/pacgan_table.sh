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
set -euo pipefail
PY=${PYTHON:-python3}
STEPS=${STEPS:-10000}
SEEDS=${SEEDS:-3}
DEVICE=${DEVICE:-auto}
OUT=${OUT:-bench/pacgan-table}
DATA=${DATA:-"ring grid"}
VARIANTS=${VARIANTS:-"gan pacgan2 pacgan3 pacgan4 sngan wgan-gp"}
common=(--seeds "$SEEDS" --device "$DEVICE" --no-progress)
for data in $DATA; do
    packed=()
    for variant in $VARIANTS; do
        case $variant in
            gan|pacgan*) packed+=("$variant") ;;  # their own recipe is the paper's setting
            sngan) "$PY" -m ganzoo bench sngan --data "$data" --steps "$STEPS" --batch-size 100 "${common[@]}" \
                       --out "$OUT/$data-sngan" ;;
            wgan-gp) "$PY" -m ganzoo bench wgan-gp --data "$data" --steps $(( STEPS / 5 )) --batch-size 100 \
                         --set arch=mlp --set latent_dim=2 "${common[@]}" --out "$OUT/$data-wgan-gp" ;;
            *) echo "pacgan_table.sh: no PacGAN-table recipe for variant '$variant'" >&2; exit 2 ;;
        esac
    done
    if [ ${#packed[@]} -gt 0 ]; then
        "$PY" -m ganzoo bench "${packed[@]}" --data "$data" --steps "$STEPS" "${common[@]}" --out "$OUT/$data-gan"
    fi
done
