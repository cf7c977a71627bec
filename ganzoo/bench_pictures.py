"""The pictures of a benchmark report: each variant's samples side by side, its metrics, and its losses."""

from __future__ import annotations

import io
import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.bench_report import EVAL_SEED, IMAGES_SHOWN, Job, fmt, read_log
from ganzoo.errors import GanzooError

if TYPE_CHECKING:
    from ganzoo.data import Samples


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    from ganzoo.files import write_bytes

    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return write_bytes(path, buffer.getvalue())


def draw_pictures(
    jobs: list[Job], variants: list[str], report: dict[str, Any], out: Path, real: Samples, device: str | None
) -> None:
    _samples_picture(jobs, variants, report, out / "samples.png", real, device)
    _metrics_picture(report, out / "metrics.png")
    _losses_picture(jobs, variants, out / "losses.png")


def _samples_picture(
    jobs: list[Job], variants: list[str], report: dict[str, Any], path: Path, real: Samples, device: str | None
) -> None:
    """Each variant's seed-0 run side by side: an image grid, or generated points over real ones."""
    import torch

    from ganzoo.pictures import image_grid
    from ganzoo.sources import load_generator

    plt = _pyplot()
    points = real.kind != "image"
    fig, axes = plt.subplots(1, len(variants), figsize=(3.2 * len(variants), 3.5), dpi=90, squeeze=False)
    for ax, variant in zip(axes[0], variants):
        job = min((j for j in jobs if j.variant == variant), key=lambda j: j.seed)
        ax.set_title(f"{variant} (seed {job.seed}, step {job.step})", fontsize=9)
        try:
            gen = load_generator(job.run_dir, device=device)
        except GanzooError:
            ax.text(0.5, 0.5, "no checkpoint", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        if points:
            fake = gen.sample(report["n"], seed=EVAL_SEED).cpu().float()
            shown = real.data[torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:2000]].float()
            ax.scatter(shown[:, 0], shown[:, 1], s=2, c="#9ab", alpha=0.4, linewidths=0, label="real")
            ax.scatter(fake[:, 0], fake[:, 1], s=2, c="#d2452b", alpha=0.5, linewidths=0, label="generated")
            ax.set_aspect("equal")
            ax.tick_params(labelsize=7)
        else:
            grid = image_grid(gen.sample(IMAGES_SHOWN, seed=EVAL_SEED).cpu(), 8)
            ax.imshow(grid, cmap="gray" if grid.mode == "L" else None, interpolation="nearest")
            ax.set_axis_off()
    if points:
        axes[0][0].legend(loc="lower left", fontsize=6, markerscale=3)
    fig.tight_layout()
    _save(fig, path)


def _metrics_picture(report: dict[str, Any], path: Path) -> None:
    """One bar chart per headline figure: mean over seeds with standard-deviation error bars."""
    plt = _pyplot()
    columns = report["columns"] or [{"label": "(no results)"}]
    fig, axes = plt.subplots(1, len(columns), figsize=(2.6 * len(columns) + 0.4, 3.0), dpi=90, squeeze=False)
    names = [v["variant"] for v in report["variants"]]
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(len(names))]
    for ax, column in zip(axes[0], columns):
        means, errors = [], []
        for entry in report["variants"]:
            cell = entry["summary"].get(column["label"], {})
            mean = cell.get("mean")
            means.append(mean if mean is not None and math.isfinite(mean) else 0.0)
            errors.append(cell.get("std") or 0.0)
        ax.bar(range(len(names)), means, yerr=errors, color=colours, capsize=3)
        for x, entry in enumerate(report["variants"]):
            mean = entry["summary"].get(column["label"], {}).get("mean")
            if mean is None or not math.isfinite(mean):
                ax.annotate("n/a" if mean is None else fmt(mean), (x, 0), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_title(column["label"], fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    _save(fig, path)


def _losses_picture(jobs: list[Job], variants: list[str], path: Path) -> None:
    """loss_d and loss_g against the step, each the mean over a variant's seeds."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=90)
    for i, variant in enumerate(variants):
        per_step: dict[int, dict[str, list[float]]] = {}
        for job in jobs:
            if job.variant != variant:
                continue
            for row in read_log(job.run_dir):
                slot = per_step.setdefault(int(row["step"]), {"loss_d": [], "loss_g": []})
                for key in ("loss_d", "loss_g"):
                    if key in row:
                        slot[key].append(float(row[key]))
        steps = sorted(per_step)
        colour = plt.get_cmap("tab10")(i % 10)
        for ax, key in zip(axes, ("loss_d", "loss_g")):
            xs = [s for s in steps if per_step[s][key]]
            ax.plot(xs, [statistics.fmean(per_step[s][key]) for s in xs], label=variant, color=colour, linewidth=1)
    for ax, key in zip(axes, ("loss_d", "loss_g")):
        ax.set_title(f"{key} (mean over seeds)", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
