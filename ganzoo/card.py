"""The model card (README.md) written beside a generator folder: front matter for the Hub, and a page for people."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from ganzoo.errors import GanzooError
from ganzoo.folder import CONFIG_FILE, LIBRARY, SAMPLES_FILE, WEIGHTS_FILE
from ganzoo.plugins import registry
from ganzoo.values import DISTRIBUTION, REPO_ID, normalise_distribution

__all__ = ["model_card", "search_tags", "SAMPLES_SEED", "SAMPLES_IMAGES", "SAMPLES_POINTS"]

SAMPLES_SEED = 0
SAMPLES_IMAGES = 64
SAMPLES_POINTS = 1000
TAG_KEYS = {"variant": "variant", "data": "data", "arch": "architecture", "loss": "loss"}


def _tag(value: str) -> str:
    return re.sub(r"[^a-z0-9._:+-]+", "-", value.lower()).strip("-")[:100]


def search_tags(config: dict[str, Any]) -> list[str]:
    """Card tags: ``ganzoo``, ``gan``, the variant and architecture, and ``ganzoo-<key>:<value>`` for search."""
    tags = [LIBRARY, "gan"]
    for key in ("variant", "architecture"):
        if config.get(key):
            tags.append(_tag(config[key]))
    for short, key in TAG_KEYS.items():
        if config.get(key):
            tags.append(f"{LIBRARY}-{short}:{_tag(config[key])}")
    seen: set[str] = set()
    return [t for t in tags if t and not (t in seen or seen.add(t))]


def _hub_dataset(data: str) -> str | None:
    """The Hub dataset id the data set ``data`` declares (``Dataset.hub_dataset_for``), when it is a real Hub id; None
    for none, and after a warning line when no installed plugin registers ``data``."""
    try:
        entry, argument = registry().resolve("dataset", data)
    except GanzooError as exc:
        print(f"ganzoo: warning: {exc}; the model card names no Hub dataset for it", file=sys.stderr)
        return None
    declared = getattr(entry.obj, "hub_dataset_for", None)
    found = declared(argument) if callable(declared) else getattr(entry.obj, "hub_dataset", None)
    return found if isinstance(found, str) and REPO_ID.match(found) else None


def _metric_rows(config: dict[str, Any], finite_only: bool = True) -> list[tuple[str, str, float, dict[str, Any]]]:
    """(metric name, value name, value, protocol) for every reported figure (infinite ones too unless
    ``finite_only``)."""
    rows = []
    for item in config.get("metrics", []):
        for key, value in item["values"].items():
            value = float(value) if isinstance(value, str) else value  # "inf" / "-inf"
            if value is None or math.isnan(value) or (finite_only and math.isinf(value)):
                continue
            label = item["metric"] if len(item["values"]) == 1 or key == item["metric"] else f"{item['metric']}-{key}"
            rows.append((item["metric"], label, float(value), item.get("protocol", {})))
    return rows


def _md(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text.replace("|", "\\|").replace("\n", " ")


def _results_front_matter(rows: list[tuple[str, str, float, dict[str, Any]]], data: str) -> list[dict[str, Any]]:
    """Metrics for the ``ganzoo_results`` front-matter key (what ``ganzoo search`` shows when there is no
    model-index)."""
    found = []
    for _, label, value, protocol in rows:
        item: dict[str, Any] = {"metric": label, "value": round(value, 6)}
        if data:
            item["dataset"] = data
        if isinstance(protocol.get("split"), str):
            item["split"] = protocol["split"]
        found.append(item)
    return found


def _value_text(value: float) -> str:
    if math.isinf(value):
        return "inf (some mode gets no samples at all)" if value > 0 else "-inf"
    return f"{value:.6g}"


def model_card(config: dict[str, Any], repo_id: str | None = None, samples: bool = True) -> Any:
    """The README.md model card (a ``huggingface_hub.ModelCard``) for a generator config.

    Only real Hub ids go into the front matter: the task is ``unconditional-image-generation`` for images (none for
    points), and a model-index with the metrics is written only when the data set declares its Hub dataset id
    (``Dataset.hub_dataset``: ``mnist``, ``cifar10``, ``hf:ORG/NAME``...); otherwise the metrics go to
    ``ganzoo_results``. ``license`` comes from config.json.
    """
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    variant = config.get("variant") or config["architecture"]
    data = config.get("data") or ""
    image = config.get("data_kind", "image") == "image"
    name = repo_id.split("/")[-1] if repo_id else _tag(f"{variant}-{data}" if data else variant)
    hub_dataset = _hub_dataset(data) if data else None
    rows = _metric_rows(config)
    shown_rows = _metric_rows(config, finite_only=False)
    results = []
    if hub_dataset and image:
        for _metric, label, value, protocol in rows:
            split = protocol.get("split")
            results.append(
                EvalResult(
                    task_type="unconditional-image-generation",
                    dataset_type=hub_dataset,
                    dataset_name=data,
                    dataset_split=split if isinstance(split, str) else None,
                    metric_type=_tag(label),
                    metric_name=label,
                    metric_value=round(value, 6),
                )
            )
    extra: dict[str, Any] = {}
    if rows and not results:
        extra["ganzoo_results"] = _results_front_matter(rows, data)
    if results:
        extra["model_name"] = name
    card_data = ModelCardData(
        library_name=LIBRARY,
        license=config.get("license") or None,
        tags=search_tags(config),
        datasets=[hub_dataset] if hub_dataset else None,
        pipeline_tag="unconditional-image-generation" if image else None,
        eval_results=results or None,
        **extra,
    )
    source = f"hf-hub:{repo_id}" if repo_id else "hf-hub:NAMESPACE/NAME"
    shape = list(config["sample_shape"])
    units = "in [-1, 1]" if image else "in the data set's own coordinates"
    lines = [
        f"# {name}",
        "",
        f"A **{variant}** generator ({config['architecture']} architecture, {config.get('loss') or 'unknown'} loss) "
        f"trained with [ganzoo](https://pypi.org/project/ganzoo/) on `{data or 'unknown data'}` for "
        f"{config.get('steps', 0)} steps. It maps {config['latent_dim']}-dimensional "
        f"{'uniform' if config.get('noise') == 'uniform' else 'standard normal'} noise to "
        f"{'images' if image else 'points'} of shape {shape} {units}.",
        "",
    ]
    picture = "sample grid" if image else "scatter plot of samples"
    num_classes = int(config.get("num_classes") or 0)  # class-conditional: the usage asks for a class
    labels, flag = (", labels=1", " --class 1") if num_classes else ("", "")
    classes = (
        (
            f" It is class-conditional: {num_classes} classes, 0 to {num_classes - 1}; without labels it draws "
            "every class in turn."
        )
        if num_classes
        else ""
    )
    if samples:
        count = SAMPLES_IMAGES if image else SAMPLES_POINTS
        lines += [
            f"![{picture}: {count} samples, seed {SAMPLES_SEED}]({SAMPLES_FILE})",
            "",
            f"*{count} samples, seed {SAMPLES_SEED}: exactly what `.sample({count}, seed={SAMPLES_SEED})` draws.*",
            "",
        ]
    lines += [
        "## Use it",
        "",
        "```python",
        "import ganzoo",
        f'samples = ganzoo.load_generator("{source}").sample(16, seed=0{labels})  '
        f"# [16, {', '.join(map(str, shape))}] {units}",
        "```",
        "",
        f"or `ganzoo sample {source} -n 64 --seed 0{flag} -o samples.png`.{classes} Loading needs ganzoo"
        + _plugin_note(config)
        + "; it reads only `config.json` and `model.safetensors`.",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    training = config.get("training", {})
    settings: list[tuple[str, Any]] = [
        ("variant", variant),
        ("architecture", f"{config['architecture']} {json.dumps(config['architecture_options'], sort_keys=True)}"),
        ("loss", config.get("loss")),
        ("data set", data),
        ("steps", config.get("steps")),
        ("latent size", config["latent_dim"]),
        ("sample shape", shape),
        (
            "weights",
            f"EMA of the generator (decay {config.get('ema')})"
            if config.get("weights") == "ema"
            else "the generator's own",
        ),
        ("seed", config.get("seed")),
    ]
    settings += [(key.replace("_", " "), value) for key, value in training.items()]
    plugin = config.get("architecture_plugin") or {}
    if plugin.get("distribution"):
        settings.append(
            (
                "architecture plugin",
                f"{plugin.get('plugin') or ''} ({plugin['distribution']} {plugin.get('version') or ''})".strip(),
            )
        )
    settings.append(("licence", config.get("license") or "not stated"))
    settings.append(("ganzoo", config.get("ganzoo_version")))
    lines += [f"| {_md(k)} | {_md(v)} |" for k, v in settings if v not in (None, "", {})]
    lines.append("")
    if shown_rows:
        lines += ["## Evaluation", "", "| metric | value | protocol |", "|---|---|---|"]
        for _, label, value, protocol in shown_rows:
            shown = ", ".join(f"{k}={_md(v)}" for k, v in protocol.items() if v not in (None, "", {}, []))
            lines.append(f"| {_md(label)} | {_value_text(value)} | {shown} |")
        lines.append("")
    lines += [
        "## Files",
        "",
        f"- `{CONFIG_FILE}`: architecture and options, latent size, sample shape, training recipe, "
        "metrics with protocols",
        f"- `{WEIGHTS_FILE}`: the generator's weights (safetensors; no pickle anywhere)",
    ]
    if samples:
        lines.append(f"- `{SAMPLES_FILE}`: the {picture} above")
    content = f"---\n{card_data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n"
    return ModelCard(content)


def _plugin_note(config: dict[str, Any]) -> str:
    plugin = config.get("architecture_plugin") or {}
    dist = plugin.get("distribution") or ""
    if dist and normalise_distribution(dist) != LIBRARY and DISTRIBUTION.match(dist):
        return f" and the plugin that provides the architecture (`ganzoo install {dist}`)"
    return ""
