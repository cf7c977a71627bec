"""Speed: ganzoo's training step against a minimal hand-written loop, FLOP/s, sampling, and CLI start-up.

Prints a table, then as its very last line one JSON object with every figure.
A benchmark, not a test: it asserts nothing about time.

    python benchmarks/speed.py --quick                 # < 60 s on a 2-core CPU
    python benchmarks/speed.py --device cuda --amp --compile --batch-sizes 128,512
"""

from __future__ import annotations

import argparse
import copy
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_loop import PlainLoop  # noqa: E402

import ganzoo  # noqa: E402
from ganzoo import hookimpl, plugins  # noqa: E402
from ganzoo.data import Dataset, Samples  # noqa: E402


class Synthetic(Dataset):
    """Random uint8 images of any size: speed measurements only."""

    def __init__(self, channels: int = 3, size: int = 64, n: int = 4096) -> None:
        self.channels, self.size, self.n = channels, size, n

    def load(self, split: str = "train") -> Samples:
        gen = torch.Generator().manual_seed(0)
        data = torch.randint(0, 256, (self.n, self.channels, self.size, self.size), dtype=torch.uint8, generator=gen)
        return Samples(data=data, kind="image", info={"name": "synthetic"})


class SpeedPlugin:
    @staticmethod
    @hookimpl
    def register_datasets(register):
        register("synthetic", Synthetic)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_trainer(name: str, batch: int, device: str, amp: bool, compile_: bool):
    from ganzoo.training.config import resolve_config
    from ganzoo.training.loop import Trainer

    if name == "mlp":
        cfg = resolve_config("gan", data="ring", batch_size=batch, ema=None, device=device, amp=amp, compile=compile_)
    elif name == "dcgan32":
        cfg = resolve_config(
            "dcgan", data="digits", batch_size=batch, ema=None, device=device, amp=amp, compile=compile_
        )
    else:
        cfg = resolve_config(
            "dcgan",
            data="synthetic",
            batch_size=batch,
            ema=None,
            device=device,
            amp=amp,
            compile=compile_,
            overrides={"data.size": 64, "data.channels": 3},
        )
    trainer = Trainer(cfg, Path(tempfile.mkdtemp(prefix="ganzoo-speed-")), progress=False)
    trainer.setup()
    return trainer


def time_block(step, steps: int, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return time.perf_counter() - start


def compare(
    name: str, batch: int, repeats: int, steps: int, device: str, amp: bool, compile_: bool, dataloader: bool
) -> dict:
    """Alternate blocks of ganzoo steps and plain-loop steps so drift hits both alike."""
    trainer = make_trainer(name, batch, device, amp, compile_)
    dev = trainer.device
    history = torch.zeros(trainer.config.log_every, 5, device=dev)
    plain = PlainLoop(
        copy.deepcopy(trainer.G),
        copy.deepcopy(trainer.D),
        trainer.samples.data,
        batch,
        trainer.config.latent_dim,
        lr=trainer.config.lr_g,
        betas=tuple(trainer.config.betas),
        device=dev,
        amp=trainer.amp,
    )
    if compile_:
        plain.G, plain.D = torch.compile(plain.G), torch.compile(plain.D)
    loader = None
    if dataloader:
        loader = PlainLoop(
            copy.deepcopy(trainer.G),
            copy.deepcopy(trainer.D),
            trainer.samples.data,
            batch,
            trainer.config.latent_dim,
            lr=trainer.config.lr_g,
            betas=tuple(trainer.config.betas),
            device=dev,
            feed="dataloader",
            amp=trainer.amp,
            workers=min(4, os.cpu_count() or 1),
        )

    def ganzoo_step():
        trainer.train_step(history)
        trainer.row.zero_()
        trainer.step += 1

    warm = 3 if not compile_ else 10
    time_block(ganzoo_step, warm, dev)
    time_block(plain.step, warm, dev)
    if loader:
        time_block(loader.step, warm, dev)
    ratios, ganzoo_rates, plain_rates, loader_rates = [], [], [], []
    for _ in range(repeats):
        t_ganzoo = time_block(ganzoo_step, steps, dev)
        t_plain = time_block(plain.step, steps, dev)
        ganzoo_rates.append(steps * batch / t_ganzoo)
        plain_rates.append(steps * batch / t_plain)
        ratios.append(t_plain / t_ganzoo)
        if loader:
            loader_rates.append(steps * batch / time_block(loader.step, steps, dev))

    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        trainer.train_step(history)
    trainer.row.zero_()
    step_seconds = batch / statistics.median(ganzoo_rates)
    result = {
        "batch": batch,
        "ganzoo_img_s": statistics.median(ganzoo_rates),
        "plain_img_s": statistics.median(plain_rates),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "flop_per_step": counter.get_total_flops(),
        "flop_s": counter.get_total_flops() / step_seconds,
    }
    if loader_rates:
        result["dataloader_img_s"] = statistics.median(loader_rates)
        result["ratio_vs_dataloader"] = result["ganzoo_img_s"] / result["dataloader_img_s"]
    shutil.rmtree(trainer.run_dir, ignore_errors=True)
    result["_trainer"] = trainer
    return result


def matmul_flop_s(device: torch.device, amp: bool, quick: bool) -> float:
    n = 1024 if device.type == "cpu" else 8192
    dtype = torch.bfloat16 if (amp and device.type == "cuda") else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    reps = 5 if quick else 20
    best = float("inf")
    for _ in range(3):
        sync(device)
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync(device)
        best = min(best, (time.perf_counter() - start) / reps)
    return 2 * n**3 / best


def sampling_img_s(trainer, device: torch.device, quick: bool) -> float:
    G = trainer.G.eval()
    z = torch.randn(256, trainer.config.latent_dim, device=device)
    with torch.no_grad(), trainer.autocast():
        G(z)
        rates = []
        for _ in range(3 if quick else 7):
            sync(device)
            start = time.perf_counter()
            G(z)
            sync(device)
            rates.append(256 / (time.perf_counter() - start))
    G.train()
    return statistics.median(rates)


def command_seconds(args: list[str], repeats: int) -> float:
    script = Path(sys.executable).with_name("ganzoo")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ganzoo"]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command + args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer repeats: under a minute on a 2-core CPU.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (both loops).")
    parser.add_argument("--compile", action="store_true", help="torch.compile (both loops).")
    parser.add_argument("--dataloader", action="store_true", help="Also time the plain loop fed by a DataLoader.")
    parser.add_argument("--batch-sizes", default="", help="Batch sizes for dcgan64 (default: 64, or 32 with --quick).")
    parser.add_argument("--models", default="dcgan32,dcgan64,mlp")
    args = parser.parse_args()

    plugins.load_plugins()
    plugins.pm.register(SpeedPlugin, name="speed-benchmark")
    torch.manual_seed(0)
    repeats, steps = (3, 3) if args.quick else (7, 10)
    figures: dict[str, float] = {}
    rows = []
    last_trainer = None
    for model in args.models.split(","):
        batches = [100] if model == "mlp" else [64]
        if model == "dcgan64":
            batches = [int(b) for b in args.batch_sizes.split(",")] if args.batch_sizes else [32 if args.quick else 64]
        for batch in batches:
            r = compare(
                model,
                batch,
                repeats,
                steps * (10 if model == "mlp" else 1),
                args.device,
                args.amp,
                args.compile,
                args.dataloader,
            )
            trainer = r.pop("_trainer")
            if model == "dcgan32":
                last_trainer = trainer
            suffix = "" if len(batches) == 1 else f"_b{batch}"
            figures[f"{model}{suffix}_ratio"] = round(r["ratio"], 3)
            figures[f"{model}{suffix}_ratio_min"] = round(r["ratio_min"], 3)
            figures[f"{model}{suffix}_ratio_max"] = round(r["ratio_max"], 3)
            figures[f"{model}{suffix}_img_s"] = round(r["ganzoo_img_s"], 1)
            figures[f"{model}{suffix}_plain_img_s"] = round(r["plain_img_s"], 1)
            figures[f"{model}{suffix}_flop_s"] = r["flop_s"]
            if "dataloader_img_s" in r:
                figures[f"{model}{suffix}_dataloader_img_s"] = round(r["dataloader_img_s"], 1)
                figures[f"{model}{suffix}_ratio_vs_dataloader"] = round(r["ratio_vs_dataloader"], 3)
            rows.append((f"{model} (batch {batch})", r))

    device = torch.device(args.device)
    peak = matmul_flop_s(device, args.amp, args.quick)
    figures["matmul_flop_s"] = peak
    if "dcgan32_flop_s" in figures:
        figures["flop_fraction"] = round(figures["dcgan32_flop_s"] / peak, 4)
    if last_trainer is not None:
        figures["dcgan32_sample_img_s"] = round(sampling_img_s(last_trainer, last_trainer.device, args.quick), 1)
    figures["help_s"] = round(command_seconds(["--help"], 3 if args.quick else 5), 3)
    figures["list_s"] = round(command_seconds(["list"], 3 if args.quick else 5), 3)

    print(
        f"ganzoo {ganzoo.__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, device {args.device}, amp {args.amp}, compile {args.compile}"
    )
    print(f"{'model':24} {'ganzoo img/s':>13} {'plain img/s':>12} {'ratio (min-max)':>20} {'GFLOP/s':>9}")
    for label, r in rows:
        spread = f"{r['ratio']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f})"
        print(f"{label:24} {r['ganzoo_img_s']:13.1f} {r['plain_img_s']:12.1f} {spread:>20} {r['flop_s'] / 1e9:9.2f}")
        if "dataloader_img_s" in r:
            print(
                f"{'  plain + DataLoader':24} {r['dataloader_img_s']:13.1f}   "
                f"ganzoo / DataLoader {r['ratio_vs_dataloader']:.2f}"
            )
    print(f"matmul peak {peak / 1e9:.1f} GFLOP/s; dcgan32 step reaches {figures.get('flop_fraction', 0):.1%} of it")
    if "dcgan32_sample_img_s" in figures:
        print(f"dcgan32 sampling at batch 256: {figures['dcgan32_sample_img_s']:.0f} img/s")
    print(f"ganzoo --help {figures['help_s']:.3f} s; ganzoo list {figures['list_s']:.3f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
