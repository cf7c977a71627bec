"""Where a generator comes from: a run folder, a generator folder, a Hub repo, or a catalogue entry, resolved in
one documented order; ``load_generator`` loads whichever it is."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ganzoo.errors import UsageError
from ganzoo.folder import load_local

if TYPE_CHECKING:
    import torch

    from ganzoo.generator import Generator

__all__ = ["Source", "resolve_source", "load_generator", "check_repo_id", "parse_repo", "looks_like_path", "looks_like_hub"]

HUB_PREFIX = "hf-hub:"
_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
_REPO_ID = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$")


@dataclass(frozen=True)
class Source:
    """Where a generator comes from: a local folder, a Hub repo at a revision, or a pretrained generator's name."""

    path: Path | None = None
    repo_id: str | None = None
    revision: str | None = None
    pretrained: str | None = None

    @property
    def is_hub(self) -> bool:
        return self.repo_id is not None

    @property
    def is_pretrained(self) -> bool:
        return self.pretrained is not None

    def __str__(self) -> str:
        if self.pretrained is not None:
            return f"zoo:{self.pretrained}"
        if self.repo_id is None:
            return str(self.path)
        return f"{HUB_PREFIX}{self.repo_id}" + (f"@{self.revision}" if self.revision else "")


def check_repo_id(repo_id: str) -> str:
    """``namespace/name`` as the Hub spells repo ids, or a UsageError."""
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise UsageError(f"{repo_id!r} is not a Hub repo id; expected namespace/name (letters, digits, - _ .)")
    return repo_id


def parse_repo(spec: str) -> tuple[str, str | None]:
    """``[hf-hub:]namespace/name[@revision]`` -> (repo_id, revision or None)."""
    text = spec[len(HUB_PREFIX) :] if spec.startswith(HUB_PREFIX) else spec
    repo_id, at, revision = text.partition("@")
    if at and not revision.strip():
        raise UsageError(f"{spec!r} ends with '@' but names no revision")
    return check_repo_id(repo_id), (revision if at else None)


def looks_like_path(spec: str) -> bool:
    """True for what can only be meant as a local path: ``./x``, ``/x``, ``~/x``, ``a/b/c``, or ``a/b`` where ``a`` is a folder here."""
    if spec.startswith((".", "/", "~")) or "\\" in spec or spec.count("/") > 1:
        return True
    parent = Path(spec).expanduser().parent
    return str(parent) not in ("", ".") and parent.is_dir()


def looks_like_hub(spec: str) -> bool:
    """True for ``hf-hub:...``, and for ``namespace/name[@rev]`` that is no path here (see ``looks_like_path``)."""
    if spec.startswith(HUB_PREFIX):
        return True
    if Path(spec).expanduser().exists() or looks_like_path(spec):
        return False
    repo_id = spec.partition("@")[0]
    return bool(_REPO_ID.match(repo_id))


def _pretrained_source(name: str, revision: str | None) -> Source:
    from ganzoo import zoo

    zoo.entry(name)  # an unknown name is an error with suggestions
    if revision is not None:
        raise UsageError(f"pretrained generator {name!r} is pinned by its catalogue entry; a revision does not apply to it")
    return Source(pretrained=name)


def resolve_source(source: str | os.PathLike, revision: str | None = None) -> Source:
    """Where a generator comes from, in this order: ``hf-hub:`` forces the Hub; ``zoo:NAME`` forces the catalogue;
    an existing path wins; then a catalogue name (``ganzoo zoo``); what can only be a path (``looks_like_path``) and
    does not exist is an error at once; ``namespace/name[@rev]`` is a Hub repo; anything else is an unknown name
    (with the catalogue's close names)."""
    from ganzoo import zoo

    if isinstance(source, str) and source.startswith(HUB_PREFIX):
        repo_id, rev = parse_repo(source)
        return Source(repo_id=repo_id, revision=revision or rev)
    if isinstance(source, str) and source.startswith(zoo.PREFIX):
        return _pretrained_source(source[len(zoo.PREFIX) :], revision)
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{path} is a file; pass the generator or run folder that holds it")
        return Source(path=path)
    if not isinstance(source, str):
        raise UsageError(f"there is no folder {source}")
    if zoo.is_registered(source):
        return _pretrained_source(source, revision)
    if looks_like_path(source):
        hint = f" (for a Hub repo named like that, write hf-hub:{source})" if _REPO_ID.match(source.partition("@")[0]) else ""
        raise UsageError(f"there is no folder {source}{hint}")
    if looks_like_hub(source):
        repo_id, rev = parse_repo(source)
        return Source(repo_id=repo_id, revision=revision or rev)
    raise zoo.unknown_source(source)


def load_generator(
    source: str | os.PathLike,
    device: str | torch.device | None = None,
    ema: bool = True,
    *,
    revision: str | None = None,
    token: str | None = None,
) -> Generator:
    """A generator in eval mode from a pretrained generator's name (``ganzoo zoo``), a run folder, a generator folder,
    ``hf-hub:ns/name[@rev]`` or ``ns/name`` (see ``resolve_source`` for the order).

    ``.sample(n, seed)`` draws samples in [-1, 1]; only safetensors are ever read (a catalogue entry's only after its
    sha256 matched). ``ema`` picks a run's EMA weights.
    """
    where = resolve_source(source, revision)
    if where.pretrained is not None:
        from ganzoo.zoo import load_pretrained

        return load_pretrained(where.pretrained, device=device, token=token)
    if where.is_hub:
        from ganzoo.hub import HubError, _load_from_hub

        assert where.repo_id is not None
        try:
            return _load_from_hub(where.repo_id, where.revision, device, token)
        except HubError as exc:
            if isinstance(source, str) and not source.startswith(HUB_PREFIX) and "was not found" in str(exc):
                raise HubError(f"{exc}; there is no local folder {source} either") from None
            raise
    assert where.path is not None
    return load_local(where.path, device=device, ema=ema)
