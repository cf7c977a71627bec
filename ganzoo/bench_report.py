"""What a benchmark records and reports: the plan's unit (one variant x seed), the machine, and the report built from
the runs (``report.json`` data and ``report.md``); ``ganzoo.bench`` runs the benchmark, ``ganzoo.bench_pictures``
draws its pictures."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.values import is_number

if TYPE_CHECKING:
    from ganzoo.training.config import TrainConfig

RUNS = "runs"
BENCH_FILE = "bench.json"  # in each run folder: wall seconds spent training and evaluating it
EVAL_SEED = 0  # every run is scored with the same noise seed and the same real subset
SPLIT = "test"
IMAGES_SHOWN = 64


@dataclass
class Job:
    variant: str
    seed: int
    config: TrainConfig
    run_dir: Path
    action: str = "train"  # train, resume, restart, evaluate, skip
    step: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    train_s: float = 0.0
    eval_s: float | None = None
    trained_steps: int = 0  # steps trained by this invocation, in ``trained_s`` seconds
    trained_s: float = 0.0
    trained: bool = False  # trained (or resumed) by this invocation already

    @property
    def label(self) -> str:
        return f"{self.variant} seed {self.seed}"

    @property
    def steps_to_train(self) -> int:
        if self.trained:
            return 0
        if self.action == "resume":
            return max(0, self.config.steps - self.step)
        return self.config.steps if self.action in ("train", "restart") else 0


def machine(device: str = "cpu") -> dict[str, Any]:
    """What the figures were measured on: platform, CPU model and count, torch version and threads, device."""
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu or "unknown",
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if str(device).startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def read_timings(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / BENCH_FILE).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def as_seconds(value: Any) -> float | None:
    """A duration read from a bench.json, or None when it is missing or not a finite number of seconds."""
    if not is_number(value) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def fmt(value: Any) -> str:
    from ganzoo.metrics.report import format_value

    return format_value(value)


# ------------------------------------------------------------------------------------------------ the report


def read_log(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def _img_s(log: list[dict[str, Any]]) -> float | None:
    """Mean logged training throughput, leaving out the first window (warm-up) when there are others."""
    values = [float(row["img_s"]) for row in log if "img_s" in row]
    if len(values) > 1:
        values = values[1:]
    return round(statistics.fmean(values), 1) if values else None


def _labels(jobs: list[Job], metrics: list[str]) -> list[tuple[str, str, str]]:
    """(metric, value name, column label) for every headline figure, ``*_std`` figures left out."""
    found: list[tuple[str, str]] = []
    for metric in metrics:
        for job in jobs:
            item = next((r for r in job.results if r["metric"] == metric), None)
            if item is not None:
                found += [(metric, k) for k in item["values"] if not k.endswith("_std")]
                break
    counts: dict[str, int] = {}
    for _, value in found:
        counts[value] = counts.get(value, 0) + 1
    return [(m, v, v if counts[v] == 1 else f"{m}.{v}") for m, v in found]


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if any(not math.isfinite(v) for v in values):
        return (math.inf if all(v == v for v in values) else math.nan), None
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def build_report(
    jobs: list[Job],
    variants: list[str],
    data: str,
    metrics: list[str],
    n: int,
    features: str | None,
    command: str,
    out: Path,
    steps: int | None,
    seeds: int,
    sets: list[str],
    batch_size: int | None,
    device: str,
    wall_s: float,
) -> dict[str, Any]:
    labels = _labels(jobs, metrics)
    run_device = next((_run_device(j.run_dir) for j in jobs if (j.run_dir / "config.json").exists()), device)
    protocols = []
    for job in jobs:
        for item in job.results:
            line = {k: v for k, v in item["protocol"].items() if k not in ("step", "weights", "options")}
            line["metric"] = item["metric"]
            if not any(p["metric"] == item["metric"] for p in protocols):
                protocols.append(line)
    entries = []
    for variant in variants:
        mine = [j for j in jobs if j.variant == variant]
        runs = []
        for job in mine:
            log = read_log(job.run_dir)
            runs.append(
                {
                    "seed": job.seed,
                    "run": str(job.run_dir.relative_to(out)) if job.run_dir.is_relative_to(out) else str(job.run_dir),
                    "step": job.step,
                    "skipped": job.action == "skip",
                    "error": job.error,
                    "results": job.results,
                    "img_s": _img_s(log),
                    "train_s": round(job.train_s, 3)
                    if job.action != "skip"
                    else read_timings(job.run_dir).get("train_s"),
                    "eval_s": round(job.eval_s, 3)
                    if job.eval_s is not None
                    else read_timings(job.run_dir).get("eval_s"),
                    "train_time_logged": log[-1].get("time") if log else None,
                }
            )
        summary = {}
        good = [j for j in mine if j.error is None and j.results]
        for metric, value, label in labels:
            values = [
                float(r["values"][value])
                for j in good
                for r in j.results
                if r["metric"] == metric and value in r["values"]
            ]
            mean, std = _mean_std(values)
            summary[label] = {
                "metric": metric,
                "value": value,
                "mean": mean,
                "std": std,
                "runs": len(values),
                "per_seed": values,
            }
        img = [r["img_s"] for r in runs if r["img_s"] is not None]
        walls = [r["train_s"] + r["eval_s"] for r in runs if r["train_s"] is not None and r["eval_s"] is not None]
        config = mine[0].config.as_dict()
        for key in (
            "seed",
            "device",
            "sample_every",
            "ckpt_every",
            "log_every",
            "keep",
            "compile",
            "amp",
            "cuda_graphs",
        ):
            config.pop(key, None)
        entries.append(
            {
                "variant": variant,
                "config": config,
                "summary": summary,
                "img_s": round(statistics.fmean(img), 1) if img else None,
                "wall_s_per_run": round(statistics.fmean(walls), 1) if walls else None,
                "failed": sum(1 for j in mine if j.error),
                "runs": runs,
            }
        )
    return {
        "ganzoo_bench": 1,
        "command": command,
        "data": data,
        "split": SPLIT,
        "steps": steps,
        "seeds": seeds,
        "metrics": metrics,
        "n": n,
        "features": features,
        "eval_seed": EVAL_SEED,
        "set": sets,
        "batch_size": batch_size,
        "columns": [{"metric": m, "value": v, "label": lab} for m, v, lab in labels],
        "protocols": protocols,
        "machine": machine(run_device),
        "wall_s": round(wall_s, 1),
        "trained": sum(1 for j in jobs if j.action in ("train", "resume", "restart")),
        "evaluated": sum(1 for j in jobs if j.action != "skip"),
        "skipped": sum(1 for j in jobs if j.action == "skip"),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "variants": entries,
    }


def _run_device(run_dir: Path) -> str:
    try:
        return str(json.loads((run_dir / "config.json").read_text()).get("device", "cpu"))
    except (OSError, ValueError):
        return "cpu"


def plus_minus(mean: float | None, std: float | None) -> str:
    """``6.3 ± 0.5``: the mean to the precision of the standard deviation's first digit."""
    if mean is None:
        return "-"
    if std is None or not math.isfinite(mean):
        return fmt(mean)
    if std == 0:
        return f"{fmt(mean)} ± 0"
    decimals = min(4, max(0, -math.floor(math.log10(std))))
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def markdown(report: dict[str, Any]) -> str:
    """``report.md``: the summary table, the command, the evaluation protocol, the machine and the pictures."""
    from ganzoo.metrics.report import protocol_line

    columns = report["columns"]
    head = ["variant", *[c["label"] for c in columns], "train img/s", "wall s / run", "runs"]
    lines = [
        f"# ganzoo benchmark: {', '.join(v['variant'] for v in report['variants'])} on {report['data']}",
        "",
        "Made by:",
        "",
        f"    {report['command']}",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|",
    ]
    for entry in report["variants"]:
        cells = [entry["variant"]]
        cells += [
            plus_minus(entry["summary"][c["label"]]["mean"], entry["summary"][c["label"]]["std"]) for c in columns
        ]
        cells.append(f"{entry['img_s']:.0f}" if entry["img_s"] is not None else "-")
        cells.append(f"{entry['wall_s_per_run']:.1f}" if entry["wall_s_per_run"] is not None else "-")
        ok = len(entry["runs"]) - entry["failed"]
        cells.append(f"{ok}" + (f" ({entry['failed']} failed)" if entry["failed"] else ""))
        lines.append("| " + " | ".join(cells) + " |")
    steps = {e["variant"]: e["config"]["steps"] for e in report["variants"]}
    step_text = (
        ", ".join(f"{v} {s}" for v, s in steps.items())
        if len(set(steps.values())) > 1
        else str(next(iter(steps.values())))
    )
    lines += [
        "",
        f"Mean ± sample standard deviation over {report['seeds']} seed(s) (0..{report['seeds'] - 1}); "
        f"{step_text} generator steps per run; {report['n']} samples scored per run on the {report['split']} split "
        f"with evaluation seed {report['eval_seed']}. Train img/s = generator steps x batch size / training seconds "
        f"(from each run's metrics.jsonl; critic steps are not counted separately). "
        f"Wall s / run = training plus evaluation.",
        "",
        "## Evaluation protocol",
        "",
    ]
    for p in report["protocols"]:
        lines.append(f"- {p['metric']}: {protocol_line(p)}")
    m = report["machine"]
    lines += [
        "",
        "## Machine",
        "",
        f"- platform: {m['platform']} (Python {m['python']})",
        f"- CPU: {m['cpu']}, {m['cpu_count']} logical CPUs; torch {m['torch']} with {m['torch_threads']} thread(s)",
        f"- device: {m['device']}" + (f" ({m['gpu']})" if m.get("gpu") else ""),
        f"- wall time of this invocation: {report['wall_s']:.1f} s ({report['trained']} run(s) trained, "
        f"{report['evaluated']} evaluated, {report['skipped']} skipped as finished); finished {report['finished']}",
        "",
        "## Settings per variant",
        "",
    ]
    for entry in report["variants"]:
        c = entry["config"]
        lines.append(
            f"- {entry['variant']}: architecture {c['architecture']} "
            f"{json.dumps(c['architecture_options'], sort_keys=True)}, "
            f"loss {c['loss']} {json.dumps(c['loss_options'], sort_keys=True)}, {c['optimizer']} lr_g {c['lr_g']} "
            f"lr_d {c['lr_d']}"
            + (f" betas {list(c['betas'])}" if c["optimizer"] == "adam" else "")
            + (f" lr_decay {c['lr_decay']}" if c.get("lr_decay", "none") != "none" else "")
            + ", "
            f"batch {c['batch_size']}, latent {c['latent_dim'] or 'default'}, "
            f"ema {c['ema']}, data {c['data']} {json.dumps(c['data_options'], sort_keys=True)}"
        )
    lines += [
        "",
        "## Runs",
        "",
        "| variant | seed | step | " + " | ".join(c["label"] for c in columns) + " | img/s | train s | eval s |",
        "|---|---:|---:|" + "---:|" * (len(columns) + 3),
    ]
    for entry in report["variants"]:
        for run in entry["runs"]:
            cells = [entry["variant"], str(run["seed"]), str(run["step"])]
            for c in columns:
                item = next((r for r in run["results"] if r["metric"] == c["metric"]), None)
                cells.append(fmt(item["values"].get(c["value"])) if item else "-")
            cells.append(f"{run['img_s']:.0f}" if run["img_s"] is not None else "-")
            cells.append(f"{run['train_s']:.1f}" if run["train_s"] is not None else "-")
            cells.append(f"{run['eval_s']:.1f}" if run["eval_s"] is not None else "-")
            if run["error"]:
                cells[-1] += f" (failed: {run['error']})"
            elif run["skipped"]:
                cells[-1] += " (skipped: finished earlier)"
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Pictures",
        "",
        "![samples of each variant's seed-0 run](samples.png)",
        "",
        "![metrics, mean and standard deviation over seeds](metrics.png)",
        "",
        "![losses, mean over seeds](losses.png)",
        "",
    ]
    return "\n".join(lines)
