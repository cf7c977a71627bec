"""Ten seeds stacked into one batched step against ten separate `ganzoo train` processes, and against the same ten
seeds taking turns in one process (`--no-stack`): the 2-D setting (`gan` on the ring by default), the same steps.

Each case is timed as a user waits for it: the wall time of the process(es), start-up included; the separate runs
one after another. Every process gets the same ``OMP_NUM_THREADS`` (``--threads``), so the cases share the machine
alike. Prints the three wall times, the ratios, the load before and after, and last one JSON object. A benchmark:
it asserts nothing.

    python benchmarks/stacked.py --steps 300                 # CPU: stacked vs separate vs taking turns
    python benchmarks/stacked.py --steps 300 --threads 2     # two threads each, what ganzoo picks on an idle 2-core CPU
    python benchmarks/stacked.py --steps 300 --set arch.g_width=64 --set arch.d_width=64   # smaller networks
    python benchmarks/stacked.py --steps 300 --threads 2 --repeats 3   # medians of three, the order alternating
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="measure every case this many times, the order of the cases reversed every other time (a machine "
        "whose speed drifts over minutes then weighs on both sides alike); prints the medians",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ganzoo-stacked-"))
    keys = ("variant", "data", "steps", "seeds", "device", "threads", "set", "repeats")
    result: dict[str, object] = {k: getattr(args, k) for k in keys}
    result["load_before"] = load()
    k = args.seeds
    cases = {
        "stacked": lambda r: train(root / f"stacked{r}", args, "--seeds", str(k), "--stack"),
        "turns": lambda r: train(root / f"turns{r}", args, "--seeds", str(k), "--no-stack"),
        "separate": lambda r: sum(train(root / f"separate{r}-{seed}", args, "--seed", str(seed)) for seed in range(k)),
    }
    words = {"stacked": "seeds stacked", "turns": "seeds taking turns", "separate": "separate processes"}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for repeat in range(args.repeats):
        order = list(cases) if repeat % 2 == 0 else list(reversed(cases))
        for name in order:
            times[name].append(cases[name](repeat))
            print(f"{k} {words[name] + ':':24s}{times[name][-1]:8.2f} s", flush=True)
        ratio = times["stacked"][-1] / times["separate"][-1]
        print(
            f"stacked / separate: {ratio:.3f}   stacked / taking turns: "
            f"{times['stacked'][-1] / times['turns'][-1]:.3f}",
            flush=True,
        )
    stacked, turns, separate = (statistics.median(times[name]) for name in cases)
    ratios = [a / b for a, b in zip(times["stacked"], times["separate"])]
    result.update(
        stacked_s=[round(t, 2) for t in times["stacked"]],
        turns_s=[round(t, 2) for t in times["turns"]],
        separate_s=[round(t, 2) for t in times["separate"]],
        stacked_vs_separate=[round(r, 3) for r in ratios],
        stacked_vs_separate_median=round(statistics.median(ratios), 3),
        stacked_vs_turns_median=round(stacked / turns, 3),
        load_after=load(),
    )
    print(
        f"medians of {args.repeats}: stacked {stacked:.2f} s, taking turns {turns:.2f} s, separate {separate:.2f} s; "
        f"stacked / separate {statistics.median(ratios):.3f} (each repeat's own ratio), stacked / taking turns "
        f"{stacked / turns:.3f}   (load {result['load_before']} before, {result['load_after']} after)",
        flush=True,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
