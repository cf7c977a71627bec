"""Ten seeds stacked into one batched step against ten separate `ganzoo train` processes, and against the same ten
seeds taking turns in one process (`--no-stack`): the 2-D setting (`gan` on the ring by default), the same steps.

Each case is timed as a user waits for it: the wall time of the process(es), start-up included; the separate runs
one after another. Every process gets the same ``OMP_NUM_THREADS`` (``--threads``), so the cases share the machine
alike. Prints the three wall times, the ratios, the load before and after, and last one JSON object. A benchmark:
it asserts nothing.

    python benchmarks/stacked.py --steps 300                 # CPU: stacked vs separate vs taking turns
    python benchmarks/stacked.py --steps 300 --threads 2     # two threads each, what ganzoo picks on an idle 2-core CPU
    python benchmarks/stacked.py --steps 300 --set arch.g_width=64 --set arch.d_width=64   # smaller networks
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


def train(folder: Path, args: argparse.Namespace, *flags: str) -> float:
    """Wall seconds of one `ganzoo train` process."""
    every = str(args.steps)
    command = [
        sys.executable,
        "-m",
        "ganzoo",
        "train",
        args.variant,
        "--data",
        args.data,
        "--steps",
        str(args.steps),
        "--device",
        args.device,
        "--out",
        str(folder),
        "--log-every",
        str(max(1, args.steps // 4)),
        "--sample-every",
        every,
        "--ckpt-every",
        every,
        *[f for s in args.set for f in ("--set", s)],
        *flags,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - start


def load() -> float:
    return round(os.getloadavg()[0], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="gan")
    parser.add_argument("--data", default="ring")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of every process")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting for every run")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ganzoo-stacked-"))
    keys = ("variant", "data", "steps", "seeds", "device", "threads", "set")
    result: dict[str, object] = {k: getattr(args, k) for k in keys}
    result["load_before"] = load()
    k = args.seeds
    stacked = train(root / "stacked", args, "--seeds", str(k), "--stack")
    print(f"{k} seeds stacked:           {stacked:8.2f} s", flush=True)
    turns = train(root / "turns", args, "--seeds", str(k), "--no-stack")
    print(f"{k} seeds taking turns:      {turns:8.2f} s", flush=True)
    separate = sum(train(root / f"separate{seed}", args, "--seed", str(seed)) for seed in range(k))
    print(f"{k} separate processes:      {separate:8.2f} s", flush=True)
    result.update(
        stacked_s=round(stacked, 2),
        turns_s=round(turns, 2),
        separate_s=round(separate, 2),
        stacked_vs_separate=round(stacked / separate, 3),
        stacked_vs_turns=round(stacked / turns, 3),
        load_after=load(),
    )
    print(
        f"stacked / separate: {stacked / separate:.3f}   stacked / taking turns: {stacked / turns:.3f}   "
        f"(load {result['load_before']} before, {result['load_after']} after)",
        flush=True,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
