"""GPU speed of ganzoo's own training step: eager, captured in one CUDA graph, and compiled + captured.

The settings match `cuda_graph_anchor.py` (the plain-PyTorch reference): the PacGAN 2D mlp at batch 100 in fp32,
and dcgan on 32 px 1-channel images at batch 64 in fp32 and bf16; EMA off (the reference has none), TF32 on.
Each line is ms/step over ``--steps`` steps after a warm-up; the last line printed is one JSON object.
A benchmark, not a test: it asserts nothing about time.

    python benchmarks/gpu_step.py                    # every case
    python benchmarks/gpu_step.py --cases mlp_b100_fp32 --modes eager,graph
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

CASES = {  # name: (variant, data, batch, amp, modes measured by default)
    "mlp_b100_fp32": ("gan", "ring", 100, False, ("eager", "graph", "compile_graph")),
    "dcgan32_b64_fp32": ("dcgan", "digits", 64, False, ("eager", "graph")),
    "dcgan32_b64_bf16": ("dcgan", "digits", 64, True, ("eager", "graph", "compile_graph")),
    "dcgan32_b512_bf16": ("dcgan", "digits", 512, True, ("eager", "graph")),
}
MODES = {"eager": (False, False), "graph": (True, False), "compile_graph": (True, True)}  # (cuda_graphs, compile)


def measure(case: str, mode: str, steps: int) -> dict:
    from ganzoo.training.config import resolve_config
    from ganzoo.training.loop import Trainer

    variant, data, batch, amp, _ = CASES[case]
    graphs, compiled = MODES[mode]
    torch.manual_seed(0)
    config = resolve_config(
        variant, data=data, batch_size=batch, ema=None, device="cuda", amp=amp, compile=compiled, cuda_graphs=graphs
    )
    trainer = Trainer(config, Path(tempfile.mkdtemp(prefix="ganzoo-gpu-")), progress=False)
    trainer.setup()
    trainer.history = history = torch.zeros(steps + 64, 5, device=trainer.device)
    started = time.perf_counter()
    for _ in range(20 if not compiled else 30):
        trainer.advance()
    torch.cuda.synchronize()
    warm_s = time.perf_counter() - started
    captured = bool(trainer.stepper is not None and trainer.stepper.captured)
    trainer.row.zero_()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.advance()
    torch.cuda.synchronize()
    ms = (time.perf_counter() - start) / steps * 1e3
    finite = bool(torch.isfinite(history[:steps]).all())
    return {
        "case": case,
        "mode": mode,
        "ms": round(ms, 4),
        "captured": captured,
        "finite": finite,
        "warmup_s": round(warm_s, 2),
        "img_s": round(batch / ms * 1e3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--modes", help="comma-separated modes for every case (default: each case's own)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--anchor", help="the anchor's JSON line (or a file holding it) to compute ratios against")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("gpu_step.py: no CUDA device here")
    anchor = {}
    if args.anchor:
        text = Path(args.anchor).read_text() if Path(args.anchor).is_file() else args.anchor
        lines = [line for line in text.splitlines() if line.startswith("{")]
        anchor = json.loads(lines[-1]) if lines else {}
    results: dict[str, object] = {"device": torch.cuda.get_device_name(), "torch": torch.__version__}
    for case in args.cases.split(","):
        for mode in args.modes.split(",") if args.modes else CASES[case][4]:
            try:
                row = measure(case, mode, args.steps)
            except Exception as exc:  # one failing case must not hide the others
                print(f"{case} {mode}: failed: {type(exc).__name__}: {str(exc)[:400]}", flush=True)
                results[f"{case}_{mode}_error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
                continue
            key = f"{case}_{mode}_ms"
            results[key] = row["ms"]
            if not row["captured"] and mode != "eager":
                results[f"{case}_{mode}_captured"] = False
            reference = anchor.get(f"{case}_graph_ms")
            if reference:
                results[f"{case}_{mode}_vs_anchor"] = round(row["ms"] / reference, 3)
            print(
                f"{case:20} {mode:14} {row['ms']:8.3f} ms/step  {row['img_s']:>9} img/s  "
                f"captured {int(row['captured'])}  "
                f"finite {int(row['finite'])}  warm-up {row['warmup_s']} s"
                + (f"  x{row['ms'] / reference:.2f} the anchor's graph" if reference else ""),
                flush=True,
            )
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
