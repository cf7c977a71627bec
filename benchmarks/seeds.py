"""Many seeds at once: K runs of the mlp PacGAN setting trained together in one process (`ganzoo train --seeds K`)
against one seed, and (with ``--separate``) against the same K runs as K separate processes, one after another.

Each case is a fresh `ganzoo train` process. Two figures per case: the wall time of the process(es) (what a user
waits for, start-up included) and the training time the runs' logs record (their last ``time``; for runs trained
together, the time of the whole group). The last line printed is one JSON object. A benchmark: it asserts nothing.

    python benchmarks/seeds.py --device cpu --steps 500 --seeds 10 --separate     # the CPU comparison
    python benchmarks/seeds.py --device cuda --steps 3000 --seeds 1,10              # one seed vs ten on a GPU
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def train(folder: Path, device: str, steps: int, *, seeds: int | None = None, seed: int = 0) -> float:
    command = [
        sys.executable,
        "-m",
        "ganzoo",
        "train",
        "gan",
        "--data",
        "ring",
        "--steps",
        str(steps),
        "--device",
        device,
        "--out",
        str(folder),
        "--seed",
        str(seed),
        "--log-every",
        str(max(1, steps // 8)),
        "--sample-every",
        str(steps),
        "--ckpt-every",
        str(steps),
    ]
    if seeds is not None:
        command += ["--seeds", str(seeds)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def logged_time(folder: Path) -> float:
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return float(json.loads(lines[-1])["time"])


def steady_ms(folder: Path) -> float:
    """ms per step after the first log window (which holds the warm-up and, on CUDA, the capture)."""
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    if len(rows) < 2:
        return float("nan")
    return (rows[-1]["time"] - rows[0]["time"]) / (rows[-1]["step"] - rows[0]["step"]) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", default="10", help="comma-separated K values to train together")
    parser.add_argument("--separate", action="store_true", help="also train the largest K as K separate processes")
    args = parser.parse_args()
    counts = [int(k) for k in args.seeds.split(",")]
    root = Path(tempfile.mkdtemp(prefix="ganzoo-seeds-"))
    result: dict[str, object] = {"device": args.device, "steps": args.steps}
    for k in counts:
        folder = root / f"together{k}"
        wall = train(folder, args.device, args.steps, seeds=k)
        trained = logged_time(folder / "seed0")
        steady = steady_ms(folder / "seed0")
        result[f"together_{k}_wall_s"] = round(wall, 2)
        result[f"together_{k}_train_s"] = round(trained, 2)
        result[f"together_{k}_steady_ms"] = round(steady, 4)
        print(
            f"{k:3} seeds together: wall {wall:7.2f} s, training {trained:7.2f} s, after the first window "
            f"{steady:.3f} ms per step of all {k}",
            flush=True,
        )
    if len(counts) > 1:
        low, high = min(counts), max(counts)
        result[f"train_{high}_vs_{low}"] = round(
            result[f"together_{high}_train_s"] / result[f"together_{low}_train_s"], 3
        )
        result[f"steady_{high}_vs_{low}"] = round(
            result[f"together_{high}_steady_ms"] / result[f"together_{low}_steady_ms"], 3
        )
    if args.separate:
        k = max(counts)
        walls, trains = [], []
        for seed in range(k):
            folder = root / f"separate{seed}"
            walls.append(train(folder, args.device, args.steps, seed=seed))
            trains.append(logged_time(folder))
        result[f"separate_{k}_wall_s"] = round(sum(walls), 2)
        result[f"separate_{k}_train_s"] = round(sum(trains), 2)
        result["together_vs_separate_wall"] = round(result[f"together_{k}_wall_s"] / sum(walls), 3)
        result["together_vs_separate_train"] = round(result[f"together_{k}_train_s"] / sum(trains), 3)
        print(f"{k:3} separate runs:    wall {sum(walls):7.2f} s, training {sum(trains):7.2f} s", flush=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
