"""The 25-mode grid on a CPU within a training budget: train a variant on `grid` for a fixed number of steps, one
fresh `ganzoo train` process per seed, and score it with the `modes` metric (`ganzoo eval`: 2,500 points,
evaluation seed 0, high quality within 3 sigma of the nearest mode).

Per seed it prints the training time the run's log records (its last ``time``: start-up and evaluation are not
counted), the modes covered, the high-quality share and the reverse KL; then mean and sample standard deviation
over the seeds, and whether every seed met the target (>= 24 of 25 modes at >= 90 % high quality, trained within
``--budget-min`` minutes). The last line printed is one JSON object. A benchmark: it asserts nothing.

    OMP_NUM_THREADS=1 python benchmarks/grid_cpu.py sngan --steps 24000 --seeds 0 \
        --set batch_size=512 --set lr=5e-4 --set lr_decay=linear
    python benchmarks/grid_cpu.py gan --steps 20000 --set lr=1e-3          # any variant and --set overrides

On the 2-core CPU of docs/benchmarks.md the first command (beside a second one on the other core) trained for
546 s and gave 25 of 25 modes at 92.7 % high quality: the target met. Without the decay (Adam 2e-4) 86.4 %.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_MODES = 24
TARGET_HQ = 90.0


def train(folder: Path, variant: str, steps: int, seed: int, sets: list[str], device: str) -> float:
    command = [
        sys.executable,
        "-m",
        "ganzoo",
        "train",
        variant,
        "--data",
        "grid",
        "--steps",
        str(steps),
        "--seed",
        str(seed),
        "--device",
        device,
        "--out",
        str(folder),
        "--log-every",
        str(max(1, steps // 20)),
        "--sample-every",
        str(steps),
        "--ckpt-every",
        str(steps),
    ]
    for pair in sets:
        command += ["--set", pair]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    rows = (folder / "metrics.jsonl").read_text().splitlines()
    return float(json.loads(rows[-1])["time"])


def score(folder: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "ganzoo", "eval", str(folder), "--json", "--no-save", "--device", "cpu"]
    results = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    values = next(result["values"] for result in results if result["metric"] == "modes")
    return {key: float(values[key]) for key in ("modes", "hq", "rkl")}


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.2f} ± {sd:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds, one fresh run each")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="as `ganzoo train --set`")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--budget-min", type=float, default=10.0, help="training minutes a run may take")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    root = Path(tempfile.mkdtemp(prefix="ganzoo-grid-"))
    runs = []
    for seed in seeds:
        folder = root / f"seed{seed}"
        seconds = train(folder, args.variant, args.steps, seed, args.set, args.device)
        found = score(folder)
        met = found["modes"] >= TARGET_MODES and found["hq"] >= TARGET_HQ and seconds <= 60 * args.budget_min
        runs.append({"seed": seed, "train_s": round(seconds, 1), **found, "met": met})
        print(
            f"seed {seed}: {seconds:7.1f} s of training, {found['modes']:.0f} of 25 modes, "
            f"{found['hq']:.1f} % high quality, reverse KL {found['rkl']:.3f}{'  (target met)' if met else ''}",
            flush=True,
        )
    summary = {key: spread([run[key] for run in runs]) for key in ("train_s", "modes", "hq", "rkl")}
    recipe = " ".join([args.variant, *(f"--set {pair}" for pair in args.set)])
    print(
        f"{recipe}, {args.steps} steps, {len(runs)} seeds: "
        f"training {summary['train_s']} s, modes {summary['modes']}, high quality {summary['hq']} %, "
        f"reverse KL {summary['rkl']}; target met by {sum(run['met'] for run in runs)} of {len(runs)}"
    )
    print(f"runs in {root} (e.g. ganzoo sample {root / f'seed{seeds[0]}'} -n 2500 -o grid.png)")
    print(json.dumps({"variant": args.variant, "set": args.set, "steps": args.steps, "runs": runs}))


if __name__ == "__main__":
    main()
