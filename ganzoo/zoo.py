"""The catalogue of pretrained generators: entries plugins register (recipe, weights, scores), loaded by name,
made again and scored again by ``ganzoo.zoo_build``."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import GanzooError, UnknownNameError
from ganzoo.files import sha256_file
from ganzoo.folder import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, read_generator_config
from ganzoo.hub import HubError, MissingFileError, cached_file, download, is_offline
from ganzoo.plugins import registry
from ganzoo.pretrained import Pretrained
from ganzoo.values import QUALIFIED_NAME

if TYPE_CHECKING:
    import torch

    from ganzoo.generator import Generator
    from ganzoo.registry import Entry

__all__ = [
    "Pretrained",
    "ChecksumError",
    "PREFIX",
    "list_pretrained",
    "get_pretrained",
    "load_pretrained",
    "catalogue",
    "sha256_of",
]

PREFIX = "zoo:"  # ``zoo:NAME`` always means the catalogue


class ChecksumError(GanzooError):
    """A pretrained generator's weights file whose sha256 is not the one its catalogue entry records."""


# --------------------------------------------------------------------------------------------------------------------
# The catalogue: what the loaded plugins registered


def list_pretrained(pattern: str = "*") -> list[str]:
    """Names of catalogue entries matching the fnmatch ``pattern``, naturally sorted."""
    reg = registry()
    return [reg.name_for(e) for e in reg.list("pretrained", pattern)]


def entry(name: str) -> Entry:
    """The registry entry of catalogue entry ``name`` (the Pretrained and the plugin that registered it)."""
    if not isinstance(name, str) or not QUALIFIED_NAME.match(name):
        raise UnknownNameError(f"{name!r} is no pretrained generator name (see: ganzoo zoo)")
    return registry().get("pretrained", name)


def get_pretrained(name: str) -> Pretrained:
    """The catalogue entry called ``name``; an unknown name raises UnknownNameError with suggestions."""
    return entry(name).obj


def is_registered(name: str) -> bool:
    """True when ``name`` is a catalogue entry's name."""
    return isinstance(name, str) and bool(QUALIFIED_NAME.match(name)) and ("pretrained", name) in registry()


def unknown_source(spec: str) -> UnknownNameError:
    """The error for a source that is no folder, no Hub repo id and no catalogue name, with close catalogue names."""
    names = list_pretrained()
    close = difflib.get_close_matches(spec, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return UnknownNameError(
        f"{spec!r} is no pretrained generator, no folder here and no Hub repo id (namespace/name){hint} "
        "(see: ganzoo zoo)"
    )


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file, read in chunks."""
    return sha256_file(path)


def _origin(e: Entry) -> str:
    return f"pretrained generator {e.name!r} (plugin {e.plugin}, {e.distribution} {e.version})".replace(" )", ")")


def _shipped(p: Pretrained) -> Path | None:
    """The shipped folder when it holds the weights, else None."""
    if p.folder is not None and (p.folder / WEIGHTS_FILE).is_file() and (p.folder / CONFIG_FILE).is_file():
        return p.folder
    return None


def _cached(p: Pretrained, filename: str) -> Path | None:
    return cached_file(p.hub_repo, filename, p.hub_revision) if p.hub_repo and p.hub_revision else None


def available_offline(p: Pretrained) -> bool:
    """True when the weights can be loaded with no network: shipped, or config and weights in the Hub cache."""
    if _shipped(p) is not None:
        return True
    return _cached(p, CONFIG_FILE) is not None and _cached(p, WEIGHTS_FILE) is not None


def where_weights(p: Pretrained) -> str:
    """``shipped``, ``hub ns/name@abcdef123456``, or both."""
    places = []
    if p.folder is not None:
        places.append("shipped")
    if p.hub_repo is not None:
        places.append(f"hub {p.hub_repo}@{(p.hub_revision or 'unpinned')[:12]}")
    return " + ".join(places)


def _fetch(e: Entry, filename: str, token: str | None, required: bool = True) -> tuple[Path | None, bool]:
    """(path, shipped?) of one file of a catalogue entry: from its shipped folder, else downloaded at its pinned
    commit."""
    p: Pretrained = e.obj
    shipped = _shipped(p)
    if shipped is not None:
        path = shipped / filename
        return (path if path.is_file() else None), True
    if p.hub_repo is None:
        raise GanzooError(
            f"{_origin(e)}: its shipped folder {p.folder} lacks {CONFIG_FILE} or {WEIGHTS_FILE} (the plugin was "
            f"installed without its package data); reinstall it: ganzoo install --force-reinstall {e.distribution}"
        )
    if is_offline() and _cached(p, filename) is None:
        if not required:
            return None, False
        raise GanzooError(
            f"{_origin(e)} lives on the Hub ({p.hub_repo}@{p.hub_revision}) and is not in the local cache, and "
            f"HF_HUB_OFFLINE=1 forbids downloads; load it once while online (ganzoo sample {e.name}), "
            "or unset HF_HUB_OFFLINE"
        )
    try:
        return download(p.hub_repo, filename, p.hub_revision, token), False
    except MissingFileError:
        if required:
            raise
        return None, False
    except HubError as exc:
        raise HubError(f"{_origin(e)}: {exc}") from None


def check_weights(e: Entry, path: Path, shipped: bool) -> None:
    """Refuse a weights file whose sha256 is not the entry's (before anything parses it)."""
    p: Pretrained = e.obj
    found = sha256_of(path)
    if found == p.sha256:
        return
    size = path.stat().st_size
    sizes = f" ({size} bytes, the entry says {p.size})" if size != p.size else ""
    fix = (
        f"reinstall the plugin: ganzoo install --force-reinstall {e.distribution}"
        if shipped
        else f"delete the cached copy (hf cache rm model/{p.hub_repo}) and load it again; "
        "if it persists, the entry is wrong"
    )
    raise ChecksumError(
        f"{_origin(e)}: {path} has sha256 {found}{sizes}, the catalogue expects {p.sha256}; nothing was loaded ({fix})"
    )


def require_published(e: Entry) -> Pretrained:
    p: Pretrained = e.obj
    if not p.published:
        raise GanzooError(
            f"{_origin(e)} records no sha256 yet, so it has no published weights to load; build them with: "
            f"ganzoo zoo build {e.name}"
        )
    return p


def load_pretrained(name: str, device: str | torch.device | None = None, token: str | None = None) -> Generator:
    """The catalogue entry ``name``'s generator in eval mode; model.safetensors is checked against its sha256 first."""
    from ganzoo.device import resolve_device  # torch, kept off `ganzoo zoo`'s start
    from ganzoo.loading import architecture_entry, load_checked

    e = entry(name)
    require_published(e)
    resolve_device(device)  # a bad device is reported before anything is read or downloaded
    config_path, shipped = _fetch(e, CONFIG_FILE, token)
    assert config_path is not None
    where = f"{PREFIX}{name}"
    config = read_generator_config(config_path, f"{where} {CONFIG_FILE}")
    architecture_entry(config)  # a missing plugin is reported before the weights are read or downloaded
    weights, shipped = _fetch(e, WEIGHTS_FILE, token)
    assert weights is not None
    check_weights(e, weights, shipped)
    return load_checked(config, weights, f"{where} {CONFIG_FILE}", f"{where} {WEIGHTS_FILE}", device)


def describe_files(name: str, token: str | None = None) -> tuple[Path, Path | None]:
    """(config.json, README.md or None) of catalogue entry ``name``, shipped or downloaded (no weights)."""
    e = entry(name)
    require_published(e)
    config, _ = _fetch(e, CONFIG_FILE, token)
    assert config is not None
    card, _ = _fetch(e, CARD_FILE, token, required=False)
    return config, card


def info(name: str) -> dict[str, Any]:
    """A catalogue entry as ``ganzoo zoo --json`` and ``ganzoo info`` show it: the entry, its plugin, where its
    weights are."""
    e = entry(name)
    p: Pretrained = e.obj
    return {
        "name": registry().name_for(e),
        "plugin": e.plugin,
        "distribution": e.distribution,
        "version": e.version,
        **p.as_dict(),
        "data_set": p.data or _variant_data(p.variant),
        "weights": where_weights(p),
        "available_offline": p.published and available_offline(p),
        "recipe": p.recipe(),
    }


def _variant_data(variant: str) -> str:
    """The data set a variant trains on by default ("?" when no installed plugin registers the variant)."""
    reg = registry()
    return reg.get("variant", variant).obj.data if ("variant", variant) in reg else "?"


def catalogue(pattern: str = "*") -> list[dict[str, Any]]:
    """Every catalogue entry matching ``pattern`` as ``info`` describes it."""
    return [info(name) for name in list_pretrained(pattern)]
