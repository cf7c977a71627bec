"""A benchmark spread over Ray workers against the same benchmark in one process: `ganzoo bench VARIANT --seeds K`
on the CPU, once as the plain one-process bench and once with ``--ray`` on a Ray started for it with ``--workers``
CPUs (one run per task, one CPU per task). The one-process bench's seeds take turns (``--no-stack``), so both cases
run the same computations and their reports must agree figure by figure.

Each case is a fresh process, and its wall time counts everything a user waits for: start-up, Ray's start and its
workers' imports, training, evaluation and the report. It prints both wall times, their ratio (the target is at most
0.65 with 2 workers and 4 runs) and whether the two reports give the same figures for every run. The last line
printed is one JSON object. A benchmark: it asserts nothing. Say the machine's load (``uptime``) with its figures.

    OMP_NUM_THREADS=1 python benchmarks/ray_bench.py --steps 2000 --seeds 4 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(mode: str, out: str, variant: str, steps: int, seeds: int, workers: int) -> None:
    """One case, in this (fresh) process."""
    from ganzoo.bench import bench
    from ganzoo.bench_ray import RayRunner
    from ganzoo.training.seeds import stacking

    runner = RayRunner(local_cpus=workers) if mode == "ray" else None
    # the one-process seeds take turns (``--no-stack``), each the computation a Ray task runs alone, so the two reports
    # can be compared figure by figure; stacked they are not bitwise the runs alone, and on the CPU they take the
    # same time (benchmarks/stacked.py: stacked / taking turns 0.97-1.00)
    with stacking(False):
        bench([variant], "ring", steps=steps, seeds=seeds, out=out, device="cpu", progress=False, runner=runner)


def case(mode: str, out: Path, args: argparse.Namespace) -> float:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--out",
        str(out),
        "--variant",
        args.variant,
        "--steps",
        str(args.steps),
        "--seeds",
        str(args.seeds),
        "--workers",
        str(args.workers),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def figures(out: Path) -> list:
    report = json.loads((out / "report.json").read_text())
    return [(r["seed"], r["step"], r["results"]) for v in report["variants"] for r in v["runs"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="gan")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=4, help="runs in the benchmark")
    parser.add_argument("--workers", type=int, default=2, help="CPUs of the Ray started for the --ray case")
    parser.add_argument("--child", choices=["one", "ray"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out, args.variant, args.steps, args.seeds, args.workers)
        return
    root = Path(tempfile.mkdtemp(prefix="ganzoo-ray-bench-"))
    load = os.getloadavg()
    one = case("one", root / "one", args)
    print(
        f"one process:          {one:7.1f} s  ({args.seeds} runs of {args.variant}, {args.steps} steps each)",
        flush=True,
    )
    spread = case("ray", root / "ray", args)
    print(f"Ray, {args.workers} local workers: {spread:7.1f} s", flush=True)
    same = figures(root / "one") == figures(root / "ray")
    print(f"ratio {spread / one:.3f} (target <= 0.65); same figures for every run: {same}", flush=True)
    result = {
        "variant": args.variant,
        "steps": args.steps,
        "runs": args.seeds,
        "workers": args.workers,
        "one_process_s": round(one, 2),
        "ray_s": round(spread, 2),
        "ratio": round(spread / one, 3),
        "same_figures": same,
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
