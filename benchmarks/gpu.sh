#!/usr/bin/env bash
# GPU speed: ganzoo's step vs the plain loop (tensor-fed and DataLoader-fed) on CUDA with bf16,
# channels_last and torch.compile, for dcgan-64 at batch 128 and 512. Sized for < 8 minutes on one H100.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "== eager, bf16"
$PY benchmarks/speed.py --device cuda --amp --dataloader --models dcgan64,dcgan32 --batch-sizes 128,512
echo "== torch.compile, bf16"
$PY benchmarks/speed.py --device cuda --amp --compile --dataloader --models dcgan64 --batch-sizes 128,512
