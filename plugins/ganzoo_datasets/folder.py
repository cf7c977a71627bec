"""A folder of images (searched recursively) loaded with Pillow into one uint8 tensor, labelled by class subfolder."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from ganzoo.data import Samples
from ganzoo.errors import GanzooError, one_line
from ganzoo.limits import MAX_CLASSES
from ganzoo_datasets.images import square_array, stack

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif")
# Show a progress bar from this many files on.
BAR_FROM = 500


def image_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` with an image extension (any case), sorted by relative path."""
    return sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )


def read_image(path: Path, size: int, channels: int) -> np.ndarray:
    """One image file as ``uint8 [channels, size, size]``; Pillow's decompression-bomb warning is raised as an error.

    Other warnings Pillow gives while decoding (odd EXIF data, palette transparency) are not
    about anything ganzoo or the user can act on, and are left out.
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            image.load()
            return square_array(image, size, channels)


def _problem(path: Path, exc: BaseException) -> str:
    """What is wrong with the image at ``path``, on one line."""
    from PIL import Image

    if isinstance(exc, (Image.DecompressionBombWarning, Image.DecompressionBombError)):
        return (
            f"image {path} has more pixels than Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} "
            "(PIL.Image.MAX_IMAGE_PIXELS) and is refused as a possible decompression bomb; shrink or delete it"
        )
    return f"cannot read image {path} ({one_line(exc)}); fix or delete it"


def class_folders(folder: Path, files: list[Path], labels: str) -> list[str] | None:
    """The class names (sorted first-level subfolders) that label ``files``, or None for no labels.

    ``subfolders``: every image must sit in a subfolder, and there must be two or more (else a GanzooError naming
    what is off); ``auto``: labels exactly when that holds; ``none``: no labels."""
    if labels == "none":
        return None
    top = [p for p in files if len(p.relative_to(folder).parts) == 1]
    names = sorted({p.relative_to(folder).parts[0] for p in files if len(p.relative_to(folder).parts) > 1})
    if labels == "auto":
        return names if not top and 2 <= len(names) <= MAX_CLASSES else None
    if top:
        raise GanzooError(
            f"folder {folder}: labels=subfolders takes each image's class from its subfolder, but {top[0].name} sits "
            f"in the folder itself ({len(top)} image(s) do); move them into class subfolders, or pass "
            f"--set data.labels=none"
        )
    if not 2 <= len(names) <= MAX_CLASSES:
        raise GanzooError(
            f"folder {folder}: labels=subfolders needs 2 to {MAX_CLASSES} class subfolders holding images, found "
            f"{len(names)}; pass --set data.labels=none to train without labels"
        )
    return names


def load_folder(argument: str, split: str, size: int, channels: int, skip_bad: bool, labels: str = "auto") -> Samples:
    """Every image under ``argument`` as ``uint8 [N, channels, size, size]``, labelled by class subfolder when
    ``labels`` says so (see ``class_folders``)."""
    from tqdm.auto import tqdm

    folder = Path(argument).expanduser()
    if not folder.exists():
        raise GanzooError(f"folder {folder} does not exist; use --data folder:PATH with a folder of images")
    if not folder.is_dir():
        raise GanzooError(f"{folder} is not a folder; use --data folder:PATH with a folder of images")
    files = image_files(folder)
    listed = ", ".join(EXTENSIONS)
    if not files:
        raise GanzooError(f"folder {folder} holds no images ({listed})")
    names = class_folders(folder, files, labels)
    index = {name: i for i, name in enumerate(names or [])}
    arrays, classes = [], []
    skipped: list[str] = []
    for path in tqdm(
        files, desc=f"reading {folder.name or folder}", unit="img", file=sys.stderr, disable=len(files) < BAR_FROM
    ):
        try:
            arrays.append(read_image(path, size, channels))
            if names is not None:
                classes.append(index[path.relative_to(folder).parts[0]])
        except Exception as exc:  # any file Pillow cannot decode (or refuses as too large) is named, not traced
            if not skip_bad:
                raise GanzooError(
                    f"{_problem(path, exc)}, or pass --set data.skip_bad=true to skip such images"
                ) from None
            skipped.append(str(path))
    if not arrays:
        raise GanzooError(f"folder {folder} holds no readable images ({listed}); all {len(files)} failed to load")
    if skipped:
        print(
            f"ganzoo: warning: folder {folder}: skipped {len(skipped)} unreadable or oversized image(s), "
            f"the first {skipped[0]}",
            file=sys.stderr,
        )
    info = {
        "name": "folder",
        "split": split,
        "size": size,
        "path": str(folder.resolve()),
        "channels": channels,
        "files": len(files),
        "skipped": skipped,
    }
    if split == "test":
        info["split_note"] = "folder has no test split; using all images"
    if names is None:
        return Samples(data=stack(arrays, size, channels), kind="image", info=info)
    info.update(labels="subfolders", class_names=names)
    return Samples(
        data=stack(arrays, size, channels),
        kind="image",
        labels=torch.tensor(classes, dtype=torch.int64),
        num_classes=len(names),
        info=info,
    )
