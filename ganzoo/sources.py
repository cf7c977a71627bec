"""Where a generator comes from: a run folder, a generator folder, a Hub repo, or a catalogue entry, resolved in
one documented order; ``load_generator`` loads whichever it is."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo import zoo
from ganzoo.errors import UsageError
from ganzoo.folder import (
    CARD_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    folder_kind,
    is_run_folder,
    pickle_files,
    pickle_refusal,
    read_generator_config,
)
from ganzoo.hub import HUB_PREFIX, HubError, MissingFileError, card_metrics, download, load_from_hub, parse_repo
from ganzoo.packaging import read_eval
from ganzoo.training.checkpoint import list_checkpoints
from ganzoo.training.rundir import read_run_config
from ganzoo.values import REPO_ID

if TYPE_CHECKING:
    import torch

    from ganzoo.generator import Generator

__all__ = ["Source", "resolve_source", "load_generator", "describe_generator", "looks_like_path", "looks_like_hub"]


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


def looks_like_path(spec: str) -> bool:
    """True for what can only be meant as a local path: ``./x``, ``/x``, ``~/x``, ``a/b/c``, or ``a/b`` where ``a``
    is a folder here."""
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
    return bool(REPO_ID.match(repo_id))


def _pretrained_source(name: str, revision: str | None) -> Source:
    zoo.entry(name)  # an unknown name is an error with suggestions
    if revision is not None:
        raise UsageError(
            f"pretrained generator {name!r} is pinned by its catalogue entry; a revision does not apply to it"
        )
    return Source(pretrained=name)


def resolve_source(source: str | os.PathLike, revision: str | None = None) -> Source:
    """Where a generator comes from, in this order: ``hf-hub:`` forces the Hub; ``zoo:NAME`` forces the catalogue;
    an existing path wins; then a catalogue name (``ganzoo zoo``); what can only be a path (``looks_like_path``) and
    does not exist is an error at once; ``namespace/name[@rev]`` is a Hub repo; anything else is an unknown name
    (with the catalogue's close names)."""
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
        hint = (
            f" (for a Hub repo named like that, write hf-hub:{source})"
            if REPO_ID.match(source.partition("@")[0])
            else ""
        )
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
        assert where.repo_id is not None
        try:
            return load_from_hub(where.repo_id, where.revision, device, token)
        except HubError as exc:
            if isinstance(source, str) and not source.startswith(HUB_PREFIX) and "was not found" in str(exc):
                raise HubError(f"{exc}; there is no local folder {source} either") from None
            raise
    assert where.path is not None
    from ganzoo.loading import load_local  # builds networks: torch, kept off `ganzoo info`'s start

    return load_local(where.path, device=device, ema=ema)


def describe_generator(source: str, revision: str | None = None, token: str | None = None) -> dict[str, Any]:
    """A generator's config and its card's metrics, without loading its weights (for ``ganzoo info``)."""
    where = resolve_source(source, revision)
    card_path: Path | None
    if where.pretrained is not None:
        config_path, card_path = zoo.describe_files(where.pretrained, token)
        config = read_generator_config(config_path, f"{where} {CONFIG_FILE}")
    elif where.is_hub:
        assert where.repo_id is not None
        config_path = download(where.repo_id, CONFIG_FILE, where.revision, token)
        config = read_generator_config(config_path, f"{where} {CONFIG_FILE}")
        try:
            card_path = download(where.repo_id, CARD_FILE, where.revision, token)
        except MissingFileError:
            card_path = None
    else:
        assert where.path is not None
        if folder_kind(where.path) == "run":
            from ganzoo.generator import generator_config_from_run  # torch, kept off `ganzoo info`'s start

            checkpoints = list_checkpoints(where.path)
            step = int(checkpoints[0].name.split("-")[-1]) if checkpoints else 0
            config = generator_config_from_run(read_run_config(where.path), step)
            config["metrics"] = read_eval(where.path)
            card_path = None
        else:
            pickles = pickle_files(where.path) if not (where.path / WEIGHTS_FILE).exists() else []
            if pickles:
                raise pickle_refusal(str(where.path), pickles)
            config = read_generator_config(where.path / CONFIG_FILE)
            card_path = where.path / CARD_FILE
    kind = "run" if where.path is not None and is_run_folder(where.path) else "generator"
    front, metrics = card_metrics(card_path)
    card = {"tags": front.get("tags", []), "datasets": front.get("datasets", []), "metrics": metrics}
    described = {"source": str(where), "kind": kind, "config": config, "card": card}
    if where.pretrained is not None:
        described["pretrained"] = zoo.info(where.pretrained)
    return described
