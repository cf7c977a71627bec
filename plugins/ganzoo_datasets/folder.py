"""A folder of images (searched recursively) loaded with Pillow into one uint8 tensor."""

from __future__ import annotations

import sys
from pathlib import Path

from ganzoo.data import Samples
from ganzoo.errors import GanzooError
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


def load_folder(argument: str, split: str, size: int, channels: int, skip_bad: bool) -> Samples:
    """Every image under ``argument`` as ``uint8 [N, channels, size, size]``."""
    from PIL import Image
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
    arrays = []
    skipped: list[str] = []
    for path in tqdm(files, desc=f"reading {folder.name or folder}", unit="img", file=sys.stderr, disable=len(files) < BAR_FROM):
        try:
            with Image.open(path) as image:
                image.load()
                arrays.append(square_array(image, size, channels))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            if not skip_bad:
                reason = " ".join(str(exc).split())
                raise GanzooError(
                    f"cannot read image {path} ({type(exc).__name__}: {reason}); fix or delete it, "
                    "or pass --set data.skip_bad=true to skip unreadable images"
                ) from None
            skipped.append(str(path))
    if not arrays:
        raise GanzooError(f"folder {folder} holds no readable images ({listed}); all {len(files)} failed to load")
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
    return Samples(data=stack(arrays, size, channels), kind="image", info=info)
