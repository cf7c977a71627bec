"""Image data sets from the Hugging Face Hub, through the optional ``datasets`` library (extra ``ganzoo[hf]``)."""

from __future__ import annotations

import io
import sys
import warnings
from typing import Any

import numpy as np
import torch

from ganzoo.data import Samples
from ganzoo.errors import GanzooError, UsageError, one_line
from ganzoo_datasets.images import square_array, stack

MISSING_EXTRA = "hf data sets need the extra: pip install 'ganzoo[hf]'"
BAR_FROM = 500


def _import_datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise GanzooError(MISSING_EXTRA) from None
    return datasets


def _image_column(datasets: Any, features: Any, wanted: str, repo: str) -> str:
    names = list(features or {})
    if wanted:
        if wanted not in names:
            raise UsageError(f"hf:{repo} has no column {wanted!r} (columns: {', '.join(names)}); fix data.image_column")
        return wanted
    for name in names:
        if isinstance(features[name], datasets.Image):
            return name
    raise UsageError(
        f"hf:{repo} has no Image column (columns: {', '.join(names)}); name one with --set data.image_column=COLUMN"
    )


def _label_column(features: Any, wanted: str, repo: str) -> str | None:
    names = list(features or {})
    if wanted:
        if wanted not in names:
            raise UsageError(f"hf:{repo} has no column {wanted!r} (columns: {', '.join(names)}); fix data.label_column")
        return wanted
    for name in ("label", "labels"):
        if name in names:
            return name
    return None


def _to_pil(value: Any, repo: str) -> Any:
    from PIL import Image

    if isinstance(value, Image.Image):
        return value
    if isinstance(value, dict):
        if value.get("bytes"):
            return Image.open(io.BytesIO(value["bytes"]))
        if value.get("path"):
            return Image.open(value["path"])
    if isinstance(value, np.ndarray):
        return Image.fromarray(value)
    raise GanzooError(f"hf:{repo}: cannot read an image from a {type(value).__name__}; pick another data.image_column")


def _chosen_splits(available: list[str], split: str, split_name: str, repo: str) -> tuple[list[str], str | None]:
    train = split_name or "train"
    if split_name and split_name not in available:
        raise UsageError(f"hf:{repo} has no split {split_name!r} (splits: {', '.join(available)}); fix data.split_name")
    if train not in available:
        if split_name or not available:
            raise UsageError(f"hf:{repo} has no split {train!r} (splits: {', '.join(available)}); set data.split_name")
        train = available[0]
    if split == "train":
        return [train], None
    if split == "test":
        if "test" in available:
            return ["test"], None
        return [train], f"hf:{repo} has no test split; using {train!r}"
    return list(available), None


def load_hf(
    repo: str,
    split: str,
    *,
    size: int,
    channels: int,
    image_column: str = "",
    label_column: str = "",
    split_name: str = "",
) -> Samples:
    """Images (and labels, when there are some) of the Hub data set ``repo`` as ``uint8 [N, C, size, size]``."""
    from tqdm.auto import tqdm

    datasets = _import_datasets()
    try:
        loaded = datasets.load_dataset(repo)
    except Exception as exc:  # network, missing repo, bad config: all one line
        raise GanzooError(
            f"cannot load hf:{repo} ({one_line(exc)}); check the repository id and your network or HF_TOKEN"
        ) from None
    if not hasattr(loaded, "keys"):
        loaded = {split_name or "train": loaded}
    available = list(loaded.keys())
    names, note = _chosen_splits(available, split, split_name, repo)
    arrays = []
    labels: list[int] = []
    num_classes = None
    has_labels = True
    for name in names:
        part = loaded[name]
        features = part.features
        column = _image_column(datasets, features, image_column, repo)
        label = _label_column(features, label_column, repo)
        has_labels = has_labels and label is not None
        if label is not None and num_classes is None:
            num_classes = getattr(features[label], "num_classes", None)
        from PIL import Image

        too_large = (Image.DecompressionBombWarning, Image.DecompressionBombError)
        try:
            with warnings.catch_warnings():
                # rows may be decoded while iterating: the bomb check must be an error there too
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                for row in tqdm(
                    part, desc=f"hf:{repo} {name}", unit="img", file=sys.stderr, disable=len(part) < BAR_FROM
                ):
                    try:
                        image = _to_pil(row[column], repo)
                        arrays.append(square_array(image, size, channels))
                    except (OSError, ValueError, SyntaxError) as exc:
                        raise GanzooError(
                            f"hf:{repo}: an image in split {name!r} is unreadable ({one_line(exc)})"
                        ) from None
                    if label is not None:
                        labels.append(int(row[label]))
        except too_large:
            raise GanzooError(
                f"hf:{repo}: an image in split {name!r} has more pixels than Pillow's limit of "
                f"{Image.MAX_IMAGE_PIXELS:,} (PIL.Image.MAX_IMAGE_PIXELS) "
                "and is refused as a possible decompression bomb"
            ) from None
    if not arrays:
        raise GanzooError(f"hf:{repo} split {', '.join(names)} holds no images")
    label_tensor = torch.tensor(labels, dtype=torch.int64) if has_labels and labels else None
    if label_tensor is not None and num_classes is None:
        num_classes = int(label_tensor.max()) + 1
    info = {"name": "hf", "split": split, "size": size, "repo": repo, "hf_splits": names, "channels": channels}
    if note:
        info["split_note"] = note
    return Samples(
        data=stack(arrays, size, channels),
        kind="image",
        labels=label_tensor,
        num_classes=num_classes if label_tensor is not None else None,
        info=info,
    )
