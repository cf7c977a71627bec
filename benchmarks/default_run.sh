#!/usr/bin/env bash
# Times the default run (`ganzoo train` with no arguments: dcgan on mnist-5k) and scores it on mnist-cnn features
# against the 1,000 test digits, beside the real-vs-real floor (benchmarks/mnist_floor.py). Prints the machine, its
# load before and after (the figures mean little on a busy machine), the wall time and the eval table.
#
#   bash benchmarks/default_run.sh                  # into bench/default-run (replaced)
#   OUT=/tmp/d GANZOO=.venv/bin/ganzoo bash benchmarks/default_run.sh
set -euo pipefail
GANZOO=${GANZOO:-ganzoo}
PY=${PYTHON:-python3}
OUT=${OUT:-bench/default-run}
echo "machine: $(getconf _NPROCESSORS_ONLN) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$OUT"
start=$(date +%s.%N)
"$GANZOO" train --out "$OUT"
end=$(date +%s.%N)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "default run: $("$PY" -c "print(round($end - $start, 1))") s of wall time"
"$GANZOO" eval "$OUT" --no-save
"$PY" "$(dirname "$0")/mnist_floor.py"
