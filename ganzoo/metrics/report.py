"""Evaluation results for people and files: default metrics, tables, protocol lines and a run's ``eval.json``."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import UsageError
from ganzoo.packaging import read_eval
from ganzoo.values import figure_number

if TYPE_CHECKING:
    from ganzoo.data import Samples
    from ganzoo.metrics.evaluate import Result

__all__ = [
    "EVAL_FILE",
    "POINTS_N",
    "IMAGES_N",
    "default_metrics",
    "default_n",
    "parse_metrics",
    "parse_options",
    "check_metrics",
    "format_value",
    "format_results",
    "protocol_line",
    "read_eval",
    "record_eval",
    "stored_result",
]

EVAL_FILE = "eval.json"
POINTS_N = 2500  # generated points scored for 2-D data (VEEGAN and PacGAN draw 2,500)
IMAGES_N = 10_000  # at most this many images by default (fewer when the real split is smaller)
# Protocol keys that do not change what a figure means: left out when results are matched.
_NOT_IDENTITY = ("ganzoo", "step", "weights")


def parse_metrics(text: str | Iterable[str] | None) -> list[str]:
    """``"fid,kid"`` or ``["fid", "kid"]`` -> ``["fid", "kid"]`` (order kept, repeats and blanks dropped)."""
    if text is None:
        return []
    parts = text.split(",") if isinstance(text, str) else [p for item in text for p in str(item).split(",")]
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def parse_options(pairs: Iterable[str] | None) -> dict[str, dict[str, Any]]:
    """``["kid.subsets=10"]`` -> ``{"kid": {"subsets": "10"}}`` (values are coerced by each metric)."""
    found: dict[str, dict[str, Any]] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        metric, dot, name = key.strip().partition(".")
        if not sep or not dot or not metric or not name:
            raise UsageError(f"--option expects METRIC.KEY=VALUE (e.g. kid.subsets=10), got {pair!r}")
        found.setdefault(metric, {})[name.strip()] = value.strip()
    return found


def default_metrics(real: Samples, data: str = "", features: str | None = None) -> list[str]:
    """The metrics ``ganzoo eval`` and ``ganzoo bench`` score when none are named.

    - 2-D mixtures with known modes (``ring``, ``grid``): ``modes``;
    - other points: ``fid`` and ``prdc`` on the coordinates;
    - images: ``fid``, ``kid`` and ``prdc``, plus ``classes`` when the extractor is a classifier
      made for the data (``digits-cnn`` for digits) rather than the generic Inception network,
      whose 1008 ImageNet classes say little about a data set's own classes.
    """
    if real.kind != "image":
        return ["modes"] if real.modes is not None and real.mode_std is not None else ["fid", "prdc"]
    from ganzoo.metrics.evaluate import default_features
    from ganzoo.plugins import registry

    spec = (features or "").strip() or default_features(real, data)
    names = ["fid", "kid", "prdc"]
    entry = registry().get("features", spec)
    if getattr(entry.obj, "has_logits", False) and registry().split("features", spec)[0] != "inception":
        names.append("classes")
    return names


def default_n(real: Samples) -> int:
    """How many samples to score when ``--n`` is not given: 2,500 points, or as many images as the real split holds
    (at most 10,000)."""
    if real.kind != "image":
        return POINTS_N
    return max(1, min(len(real), IMAGES_N))


class _Checked(Exception):
    """Raised by the stand-in sampler once ``evaluate`` has made every check it makes before sampling."""


def check_metrics(
    real: Samples,
    metrics: list[str],
    n: int,
    data: str = "",
    split: str = "test",
    features: str | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    num_classes: int = 0,
) -> None:
    """Raise the UsageError ``evaluate`` would raise (unknown metric, wrong data, too few samples) without a generator;
    ``num_classes``: the generator to come is class-conditional with that many classes."""
    from ganzoo.metrics.evaluate import evaluate

    def stand_in(count: int, seed: int) -> Any:
        raise _Checked

    try:
        evaluate(
            stand_in,
            real,
            metrics,
            n,
            features=features,
            data=data,
            split=split,
            options=options,
            num_classes=num_classes,
        )
    except _Checked:
        return


# ------------------------------------------------------------------------------------------------ showing results


def format_value(value: float | None) -> str:
    """A figure as a table shows it: integers whole, others to 4 significant digits."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def protocol_line(protocol: dict[str, Any]) -> str:
    """One line saying how a figure was measured: data and split, counts, seed, extractor and its sha256, input size,
    step."""
    p = protocol
    parts = []
    split = f"{p['split']} split" if p.get("split") else None
    if p.get("split_note"):  # the split asked for is not there (a folder has none): the training images stand in
        split = f"training images ({p['split_note']})"
    where = " ".join(str(x) for x in (p.get("data"), split) if x)
    counts = f"{p.get('n_real', '?')} real / {p.get('n_generated', '?')} generated"
    parts.append(f"{where}: {counts}" if where else counts)
    parts.append(f"seed {p.get('seed', '?')}")
    features = p.get("features")
    if features and features != "coordinates":
        extra = []
        if p.get("features_sha256"):
            extra.append(f"sha256 {str(p['features_sha256'])[:12]}")
        if p.get("features_input_size"):
            extra.append(f"{p['features_input_size']} px input")
        parts.append(f"features {features}" + (f" ({', '.join(extra)})" if extra else ""))
    elif features == "coordinates" or p.get("mode_count"):
        parts.append("features: the 2-D coordinates")
    if p.get("step") is not None:
        parts.append(f"checkpoint step {p['step']}" + (f" ({p['weights']} weights)" if p.get("weights") else ""))
    return "; ".join(parts)


# before this step a run's EMA scored worse than the raw generator it averages, from it on as well (dcgan on digits,
# benchmarks/ema_vs_raw.py, docs/benchmarks.md "EMA or raw weights")
EMA_LAGS_BEFORE = 300


def weights_line(protocol: dict[str, Any]) -> str | None:
    """Which weights were scored and why, as ``ganzoo eval`` prints it under the table (None when unrecorded)."""
    weights, step = protocol.get("weights"), protocol.get("step")
    if weights == "generator":
        return "weights:  the raw generator (--no-ema, or one trained without an EMA)"
    if weights != "ema":
        return None
    line = (
        "weights:  the generator's EMA, which `ganzoo sample` draws and `ganzoo push` publishes, so the figures "
        f"describe them; from step {EMA_LAGS_BEFORE} on it scored as well as the raw weights (benchmarks/ema_vs_raw.py)"
    )
    if isinstance(step, int) and step < EMA_LAGS_BEFORE:
        line += f", before that worse: at step {step}, --no-ema scores a run's raw generator"
    return line


def format_results(results: list[Result] | list[dict[str, Any]]) -> str:
    """A plain-text table (metric, value name, value) followed by the protocol line(s)."""
    items = [r if isinstance(r, dict) else r.as_dict() for r in results]
    rows = [(item["metric"], name, format_value(value)) for item in items for name, value in item["values"].items()]
    headers = ("metric", "name", "value")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += [
        "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]
    groups: dict[str, list[str]] = {}
    for item in items:
        groups.setdefault(protocol_line(item.get("protocol") or {}), []).append(item["metric"])
    lines.append("")
    for line, metrics in groups.items():
        label = "protocol" if len(groups) == 1 else f"protocol ({', '.join(metrics)})"
        lines.append(f"{label}: {line}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ eval.json


def _identity(item: dict[str, Any]) -> str:
    protocol = {k: v for k, v in (item.get("protocol") or {}).items() if k not in _NOT_IDENTITY}
    return json.dumps([item.get("metric"), protocol], sort_keys=True, default=str)


def record_eval(
    run_dir: str | Path,
    results: list[Result] | list[dict[str, Any]],
    step: int | None = None,
    weights: str | None = None,
) -> Path:
    """Merge ``results`` into ``RUN/eval.json`` (atomically) and return its path.

    Each result's protocol gains the checkpoint ``step`` (and ``weights``: ema or generator). A new
    result replaces a stored one of the same metric and protocol; results measured at another
    checkpoint step are dropped, so the file (and the model card ``ganzoo push`` writes from it)
    always describes the run's latest weights.
    """
    from ganzoo.files import write_json

    new = []
    for r in results:
        item = r if isinstance(r, dict) else r.as_dict()
        item = {"metric": item["metric"], "values": dict(item["values"]), "protocol": dict(item.get("protocol") or {})}
        if step is not None:
            item["protocol"]["step"] = int(step)
        if weights:
            item["protocol"]["weights"] = weights
        new.append(item)
    keys = {_identity(item) for item in new}
    kept = [
        old
        for old in read_eval(run_dir)
        if _identity(old) not in keys
        and not (step is not None and (old.get("protocol") or {}).get("step") not in (None, int(step)))
    ]
    return write_json(Path(run_dir) / EVAL_FILE, kept + new)


def stored_result(
    run_dir: str | Path, metric: str, *, n: int, split: str, seed: int, step: int, features: str | None = None
) -> dict[str, Any] | None:
    """The result of ``metric`` in ``RUN/eval.json`` measured with these settings at checkpoint ``step``, or None."""
    for item in reversed(read_eval(run_dir)):
        p = item.get("protocol") or {}
        if (
            item["metric"] == metric
            and p.get("n_generated") == n
            and p.get("split") == split
            and p.get("seed") == seed
            and p.get("step") == step
            and (not features or p.get("features") in (None, "coordinates", features))
        ):
            return {**item, "values": {k: figure_number(v) for k, v in item["values"].items()}}
    return None


# ------------------------------------------------------------------------------------------------ a generator, scored


def evaluate_source(
    source: str | Path,
    data: str | None = None,
    metrics: Iterable[str] | str | None = None,
    n: int | None = None,
    seed: int | None = None,
    split: str | None = None,
    features: str | None = None,
    device: str | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    record: bool = True,
    ema: bool = True,
) -> tuple[list[Result], Path | None]:
    """What ``ganzoo eval`` does: score a run folder, generator folder, Hub repo or pretrained generator (by name);
    returns the results and the eval.json written.

    ``data`` defaults to the data set the generator was trained on (its config), and then its
    data options (digits ``size``, say) are used too, so shapes match. ``metrics`` and ``n``
    default to ``default_metrics`` and ``default_n``, ``seed`` to 0 and ``split`` to "test"; for a
    pretrained generator every setting not given is its catalogue entry's evaluation protocol, so
    its recorded figures are measured again. For a run folder the results are merged into
    ``RUN/eval.json`` (``record``), each protocol carrying the checkpoint step. ``ema``: a run's EMA weights (what
    sample draws and push publishes, so the figures describe them) or its raw generator.
    """
    from types import SimpleNamespace

    from ganzoo.folder import is_run_folder
    from ganzoo.metrics.evaluate import evaluate
    from ganzoo.plugins import registry
    from ganzoo.sources import load_generator, resolve_source
    from ganzoo.training.loop import load_data

    where = resolve_source(source)
    if where.pretrained is not None:
        from ganzoo.zoo import get_pretrained

        protocol = get_pretrained(where.pretrained).evaluation
        data = data if data is not None else protocol["data"]
        metrics = metrics if parse_metrics(metrics) else protocol["metrics"]
        n = n if n is not None else protocol["n"]
        seed = seed if seed is not None else protocol["seed"]
        split = split if split is not None else protocol["split"]
        features = features if features else protocol["features"]
        options = options if options else protocol["options"]
    seed = 0 if seed is None else seed
    split = split or "test"
    run_dir = where.path if where.path is not None and is_run_folder(where.path) else None
    name = (data or "").strip() or None
    # Check the names before loading anything that may be slow (a Hub download).
    if name is not None:
        registry().get("dataset", name)
    names = parse_metrics(metrics)
    for metric in names:
        registry().get("metric", metric)
    if features:
        registry().get("features", features)
    gen = load_generator(source, device=device, ema=ema)
    config = gen.config or {}
    trained_on = config.get("data") or None  # a run's own name; a published folder's public one
    if name is None:
        if not trained_on:
            raise UsageError(f"{source} does not say which data set it was trained on; name one with --data")
        name = trained_on
    data_options = dict(config.get("data_options") or {}) if name == trained_on else {}
    real = load_data(SimpleNamespace(data=name, data_options=data_options), split)
    if not names:
        names = default_metrics(real, name, features)
        if gen.num_classes and real.kind == "image" and "classes" in names:
            names += [
                "class-accuracy",
                "intra-fid",
            ]  # a class-conditional generator: does it make the classes asked for?
    count = n if n is not None else default_n(real)
    results = evaluate(
        gen.sample,
        real,
        names,
        count,
        seed=seed,
        features=features,
        data=name,
        split=split,
        device=str(next(gen.parameters()).device),
        options=options,
        num_classes=gen.num_classes,
    )
    weights = config.get("weights") or ("ema" if config.get("ema") else "generator")
    step = config.get("steps")
    for r in results:
        if step is not None:
            r.protocol["step"] = int(step)
        r.protocol["weights"] = weights
    written = record_eval(run_dir, results, step=step, weights=weights) if record and run_dir is not None else None
    return results, written
