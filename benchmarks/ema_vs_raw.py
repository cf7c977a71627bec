"""EMA against raw generator weights along a run: which scores better after how many steps.

Trains one run per seed, stopping at each step count in turn (resuming, which continues exactly), and scores the
latest checkpoint twice with `ganzoo eval`'s defaults for the data set: once with the EMA weights, once with the raw
generator. Prints a markdown table (median FID over the seeds, and per seed), and last one JSON object. A benchmark:
it asserts nothing.

    python benchmarks/ema_vs_raw.py --steps 100,200,300,600,1200 --seeds 0,1,2          # dcgan on digits
    python benchmarks/ema_vs_raw.py --variant dcgan --data digits --steps 300 --seeds 0  # one point
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import ganzoo
from ganzoo.metrics.report import evaluate_source


def score(run: Path, ema: bool, device: str) -> float:
    results, _ = evaluate_source(run, metrics="fid", ema=ema, record=False, device=device)
    return float(results[0].values["fid"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", default="dcgan")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--steps", default="100,200,300,600,1200", help="Step counts to score at, rising.")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, help="Keep the runs here (default: a temporary folder).")
    args = parser.parse_args()
    steps = sorted(int(s) for s in args.steps.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    rows: dict[int, dict[str, list[float]]] = {s: {"ema": [], "raw": []} for s in steps}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        base = args.out or Path(scratch)
        for seed in seeds:
            run = base / f"{args.variant}-{args.data}-seed{seed}"
            for i, count in enumerate(steps):
                options = {"steps": count, "device": args.device, "progress": False, "ckpt_every": steps[0]}
                if i == 0:
                    ganzoo.train(args.variant, data=args.data, seed=seed, out=run, force=True, **options)
                else:
                    ganzoo.train(resume=run, **options)
                for kind in ("ema", "raw"):
                    rows[count][kind].append(score(run, kind == "ema", args.device))
                print(
                    f"seed {seed} step {count}: FID EMA {rows[count]['ema'][-1]:.2f}, raw {rows[count]['raw'][-1]:.2f}",
                    flush=True,
                )
    print()
    print(f"{args.variant} on {args.data}, FID (eval's defaults) of the latest checkpoint, seeds {args.seeds}")
    print()
    print("| steps | EMA, median | raw, median | better | EMA per seed | raw per seed |")
    print("|---:|---:|---:|---|---|---|")
    for count in steps:
        ema, raw = statistics.median(rows[count]["ema"]), statistics.median(rows[count]["raw"])
        per = [", ".join(f"{v:.2f}" for v in rows[count][k]) for k in ("ema", "raw")]
        print(f"| {count} | {ema:.2f} | {raw:.2f} | {'EMA' if ema < raw else 'raw'} | {per[0]} | {per[1]} |")
    print(
        json.dumps(
            {
                "variant": args.variant,
                "data": args.data,
                "seeds": seeds,
                "fid": rows,
                "seconds": round(time.perf_counter() - began, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
