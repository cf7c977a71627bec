"""bf16 autocast against fp32 on the CPU: training-step speed, and the default run's quality in each precision.

Speed (default): in one process, one fp32 and one bf16 trainer per model; warmed up, then timed in alternating
blocks of steps so that machine drift hits both precisions alike. Quality (``--quality``): the default run
(``ganzoo train``) with ``--no-amp`` and ``--amp`` for several seeds, an fp32 and a bf16 run side by side with one
thread each, every run scored with ``ganzoo eval``. The last printed line is one JSON object with every figure.
A benchmark, not a test: it asserts nothing about time.

    python benchmarks/cpu_bf16.py                      # speed, a few minutes on a 2-core CPU
    python benchmarks/cpu_bf16.py --quality --seeds 0,1,2 --out /tmp/bf16runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

MODELS = {  # label -> (variant, data, batch size)
    "dcgan32_b64": ("dcgan", "digits", None),
    "mlp_ring_b100": ("gan", "ring", 100),
    "dcgan32_b256": ("dcgan", "digits", 256),
}


def cpu_flags() -> dict:
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    flags = {f for line in lines if line.startswith("flags") for f in line.split(":", 1)[1].split()}
    mkldnn_bf16 = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn_bf16": bool(mkldnn_bf16()) if mkldnn_bf16 else None,
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
        "amx_tile": "amx_tile" in flags,
    }


def make_trainer(variant: str, data: str, batch: int | None, amp: bool):
    from ganzoo.training.config import resolve_config
    from ganzoo.training.loop import Trainer

    cfg = resolve_config(variant, data=data, batch_size=batch, device="cpu", amp=amp)
    trainer = Trainer(cfg, Path(tempfile.mkdtemp(prefix="ganzoo-bf16-")), progress=False)
    trainer.setup()
    return trainer


def stepper(trainer):
    """A no-argument training step writing its losses to row 0 of a history."""
    history = torch.zeros(trainer.config.log_every, 5)

    def step() -> None:
        trainer.row.zero_()  # the row lives on the trainer's device and moves on by itself
        trainer.train_step(history)
        trainer.step += 1

    return step, history


def block_ms(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def speed(label: str, repeats: int, steps: int, warm: int) -> dict:
    variant, data, batch = MODELS[label]
    trainers = {amp: make_trainer(variant, data, batch, amp) for amp in (False, True)}
    steppers = {amp: stepper(t) for amp, t in trainers.items()}
    steps_fn = {amp: s[0] for amp, s in steppers.items()}
    G = trainers[True].G.eval()
    with torch.no_grad(), trainers[True].autocast():  # what autocast really computes in on this CPU
        out_dtype = G(torch.randn(2, trainers[True].config.latent_dim)).dtype
    G.train()
    for amp in (False, True):
        block_ms(steps_fn[amp], warm)
    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(repeats):
        for amp in (False, True) if i % 2 == 0 else (True, False):  # alternate which precision goes first
            times[amp].append(block_ms(steps_fn[amp], steps))
    ratios = [f / b for f, b in zip(times[False], times[True])]
    result = {"batch": trainers[False].config.batch_size, "autocast_output_dtype": str(out_dtype)}
    for amp, name in ((False, "fp32"), (True, "bf16")):
        result[f"{name}_ms"] = round(statistics.median(times[amp]), 3)
        result[f"{name}_ms_min"] = round(min(times[amp]), 3)
        result[f"{name}_ms_max"] = round(max(times[amp]), 3)
        result[f"{name}_losses_finite"] = bool(torch.isfinite(steppers[amp][1][0]).all())
    result["ratio_fp32_over_bf16"] = round(statistics.median(ratios), 3)
    result["ratio_min"] = round(min(ratios), 3)
    result["ratio_max"] = round(max(ratios), 3)
    for t in trainers.values():
        shutil.rmtree(t.run_dir, ignore_errors=True)
    return result


def ganzoo_command() -> list[str]:
    script = Path(sys.executable).with_name("ganzoo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ganzoo"]


def run_pair(jobs: list[tuple[str, list[str], Path]]) -> dict[str, float]:
    """Run the commands side by side, one thread each; return each one's wall seconds."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    started = {}
    for name, args, log in jobs:
        started[name] = (
            subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env),
            time.perf_counter(),
            log,
        )
    walls: dict[str, float] = {}
    while len(walls) < len(started):
        for name, (proc, start, log) in started.items():
            if name not in walls and proc.poll() is not None:
                if proc.returncode != 0:
                    raise SystemExit(f"{name} failed (exit {proc.returncode}); see {log}")
                walls[name] = round(time.perf_counter() - start, 1)
        time.sleep(0.1)
    return walls


def quality(seeds: list[int], out: Path, train_steps: int | None) -> dict:
    gz = ganzoo_command()
    figures: dict = {"runs": {}}
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        jobs = []
        for name, flag in (("fp32", "--no-amp"), ("bf16", "--amp")):
            run = out / f"{name}-s{seed}"
            args = gz + ["train", "--device", "cpu", "--seed", str(seed), flag, "--out", str(run), "--force"]
            args += ["--steps", str(train_steps)] if train_steps else []
            jobs.append((f"{name}-s{seed}", args, out / f"{name}-s{seed}.train.log"))
        for name, wall in run_pair(jobs).items():
            figures["runs"][name] = {"train_wall_s": wall}
            print(f"trained {name} in {wall:.1f} s", flush=True)
        evals = [
            (
                f"{n}-s{seed}",
                gz + ["eval", str(out / f"{n}-s{seed}"), "--json", "--device", "cpu", "--no-save"],
                out / f"{n}-s{seed}.eval.json",
            )
            for n in ("fp32", "bf16")
        ]
        for name, wall in run_pair(evals).items():
            scores = {r["metric"]: r["values"] for r in json.loads((out / f"{name}.eval.json").read_text())}
            entry = figures["runs"][name]
            entry.update(eval_wall_s=wall, fid=round(scores["fid"]["fid"], 3), kid=round(scores["kid"]["kid"], 4))
            if "classes" in scores:
                entry["classes"] = scores["classes"]["classes"]
            print(f"{name}: FID {entry['fid']:.2f}  KID {entry['kid']:.4f}", flush=True)
    for name in ("fp32", "bf16"):
        fids = [figures["runs"][f"{name}-s{s}"]["fid"] for s in seeds]
        walls = [figures["runs"][f"{name}-s{s}"]["train_wall_s"] for s in seeds]
        figures[f"{name}_fid_mean"] = round(statistics.mean(fids), 3)
        figures[f"{name}_fid_sd"] = round(statistics.stdev(fids), 3) if len(fids) > 1 else 0.0
        figures[f"{name}_fid_min"], figures[f"{name}_fid_max"] = min(fids), max(fids)
        figures[f"{name}_train_wall_mean_s"] = round(statistics.mean(walls), 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="Train and score the default run in both precisions.")
    parser.add_argument("--models", default=",".join(MODELS), help=f"Speed part: some of {', '.join(MODELS)}.")
    parser.add_argument("--repeats", type=int, default=9, help="Timed blocks per precision.")
    parser.add_argument("--steps", type=int, default=10, help="Steps per timed block (x10 for the mlp).")
    parser.add_argument("--seeds", default="0,1,2", help="Quality part: seeds.")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bf16runs"), help="Quality part: run folders.")
    parser.add_argument("--train-steps", type=int, default=None, help="Quality part: steps (default: the variant's).")
    args = parser.parse_args()

    figures: dict = {"env": cpu_flags(), "load_before": os.getloadavg()[0]}
    print(json.dumps(figures["env"]))
    if args.quality:
        figures.update(quality([int(s) for s in args.seeds.split(",")], args.out, args.train_steps))
        print(f"{'precision':10} {'FID mean':>9} {'sd':>7} {'min-max':>16} {'train wall s':>13}")
        for name in ("fp32", "bf16"):
            spread = f"{figures[f'{name}_fid_min']:.2f}-{figures[f'{name}_fid_max']:.2f}"
            print(
                f"{name:10} {figures[f'{name}_fid_mean']:9.2f} {figures[f'{name}_fid_sd']:7.2f} {spread:>16} "
                f"{figures[f'{name}_train_wall_mean_s']:13.1f}"
            )
    else:
        print(f"{'model':16} {'batch':>5} {'fp32 ms (min-max)':>24} {'bf16 ms (min-max)':>24} {'fp32/bf16':>18}")
        for label in args.models.split(","):
            steps = args.steps * (10 if label.startswith("mlp") else 1)
            r = figures[label] = speed(label, args.repeats, steps, warm=max(3, steps // 2))
            cols = [f"{r[f'{n}_ms']:.2f} ({r[f'{n}_ms_min']:.2f}-{r[f'{n}_ms_max']:.2f})" for n in ("fp32", "bf16")]
            ratio = f"{r['ratio_fp32_over_bf16']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f})"
            print(f"{label:16} {r['batch']:5d} {cols[0]:>24} {cols[1]:>24} {ratio:>18}", flush=True)
    figures["load_after"] = os.getloadavg()[0]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
