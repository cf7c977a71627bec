"""A run on a busy CPU: `ganzoo train gan --data ring --steps 300` timed on the machine as it is ("idle") and beside
two CPU-bound processes this script starts itself, once with the threads ganzoo chooses and once with torch's
default (one per core), each a fresh process.

Printed per case: the wall time of the `ganzoo train` process, idle and busy, their ratio (the target is at most
2x for ganzoo's choice), the start line's thread choice, and the 1-minute load average before each timing (what
else ran). The last line printed is one JSON object. A benchmark: it asserts nothing.

    python benchmarks/busy.py                 # 300 steps, 2 competing processes
    python benchmarks/busy.py --no-default    # only ganzoo's choice (torch's default can take many minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPIN = "while True: pass"  # a CPU-bound process: one core kept busy until it is stopped


def clean_env() -> dict[str, str]:
    """This environment without the settings that would decide the threads (ganzoo's and OpenMP's)."""
    return {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "GANZOO_THREADS", "MKL_NUM_THREADS")}


def torch_default_threads() -> int:
    """The threads torch computes with when nothing is set (a fresh process)."""
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        env=clean_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip())


def train(folder: Path, steps: int, threads: int | None) -> tuple[float, str]:
    """(wall seconds, the start line's threads part) of one `ganzoo train` process."""
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
        "cpu",
        "--out",
        str(folder),
        "--force",
    ]
    if threads is not None:
        command += ["--threads", str(threads)]
    start = time.perf_counter()
    done = subprocess.run(command, env=clean_env(), check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    first = done.stdout.splitlines()[0] if done.stdout else ""
    found = re.search(r"threads \d+ \([^)]*\)", first)
    return wall, found.group(0) if found else "?"


def timed(folder: Path, steps: int, threads: int | None, competitors: int) -> dict[str, object]:
    """One timing, with ``competitors`` CPU-bound processes running beside it (stopped after it)."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(competitors)]
    try:
        if spinners:
            time.sleep(1.0)  # let them take their cores before the run measures how busy the machine is
        load = os.getloadavg()[0]
        wall, choice = train(folder, steps, threads)
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()
    return {"seconds": round(wall, 2), "threads": choice, "load_1min_before": round(load, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--competitors", type=int, default=2, help="CPU-bound processes started beside the busy run")
    parser.add_argument("--no-default", action="store_true", help="time only ganzoo's choice, not torch's default")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ganzoo-busy-"))
    default = torch_default_threads()
    result: dict[str, object] = {
        "steps": args.steps,
        "competitors": args.competitors,
        "cpus": os.cpu_count(),
        "torch_default_threads": default,
    }
    cases = [("ganzoo", None)] + ([] if args.no_default else [("torch_default", default)])
    for name, threads in cases:
        idle = timed(root / f"{name}-idle", args.steps, threads, 0)
        busy = timed(root / f"{name}-busy", args.steps, threads, args.competitors)
        ratio = busy["seconds"] / idle["seconds"]
        result[name] = {"idle": idle, "busy": busy, "ratio": round(ratio, 2)}
        print(
            f"{name:14} idle {idle['seconds']:6.2f} s [{idle['threads']}, load {idle['load_1min_before']}]   "
            f"busy {busy['seconds']:6.2f} s [{busy['threads']}, load {busy['load_1min_before']}]   "
            f"ratio {ratio:.2f}x",
            flush=True,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
