"""Downloads into the data cache: where files live, their checksums, atomic fetches with a progress bar."""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ganzoo.errors import GanzooError, one_line

# Every file a downloaded data set needs: where it comes from and its md5 (tests patch these).
SOURCES: dict[str, dict] = {
    "mnist": {
        "url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "files": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "url": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "files": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
    "cifar10": {
        "url": "https://www.cs.toronto.edu/~kriz/",
        "files": {"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"},
    },
}

_BLOCK = 1 << 20


def data_folder(name: str, root: str = "") -> Path:
    """``root`` when given, else ``$GANZOO_DATA/NAME``, else ``~/.cache/ganzoo/data/NAME``."""
    if root:
        return Path(root).expanduser()
    base = os.environ.get("GANZOO_DATA") or os.path.join("~", ".cache", "ganzoo", "data")
    return Path(base).expanduser() / name


def md5_of(path: Path) -> str:
    """The md5 hex digest of the file at ``path``."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, path: Path) -> None:
    """Fetch ``url`` to ``path`` atomically (temp file in the same folder, fsync, ``os.replace``) with a tqdm bar."""
    from tqdm.auto import tqdm

    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=path.name, file=sys.stderr
            ) as bar:
                while block := response.read(_BLOCK):
                    out.write(block)
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_files(name: str, folder: Path) -> dict[str, Path]:
    """Paths of every file ``name`` needs in ``folder``, downloading missing ones; each is md5-checked.

    A cached file with the wrong checksum is deleted (and downloaded again); a download with the
    wrong checksum is deleted and reported; no network means one GanzooError line naming the
    missing files, where to get them and the folder to put them in.
    """
    source = SOURCES[name]
    files: dict[str, str] = source["files"]
    paths = {filename: folder / filename for filename in files}
    for filename, path in paths.items():
        if path.is_file() and md5_of(path) != files[filename]:
            print(
                f"ganzoo: {path} is corrupt (md5 {md5_of(path)}, expected {files[filename]}); "
                "deleted it, downloading again",
                file=sys.stderr,
            )
            path.unlink()
    missing = [filename for filename, path in paths.items() if not path.is_file()]
    if not missing:
        return paths
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GanzooError(
            f"{name}: cannot create the data folder {folder} ({one_line(exc)}); set --set data.root=DIR or GANZOO_DATA"
        ) from None
    for position, filename in enumerate(missing):
        url = source["url"] + filename
        try:
            _download(url, paths[filename])
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            still = ", ".join(missing[position:])
            raise GanzooError(
                f"{name}: cannot download {url} ({one_line(exc)}); missing {still}: download from {source['url']} "
                f"and put them in {folder} (or point --set data.root=DIR / GANZOO_DATA at a folder holding them)"
            ) from None
        actual = md5_of(paths[filename])
        if actual != files[filename]:
            paths[filename].unlink()
            raise GanzooError(
                f"{name}: downloaded {url} but its md5 is {actual}, expected {files[filename]}; "
                "deleted the corrupt file, "
                f"run again or download it by hand into {folder}"
            )
    return paths
