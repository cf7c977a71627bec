"""The Hugging Face Hub, remotely: push, pull, search and describe generators, and one-line Hub errors.

The only module that talks to the network. The generator folder format lives in ``ganzoo.folder``,
packaging in ``ganzoo.packaging`` and model cards in ``ganzoo.card`` (their public names are re-exported here);
source resolution (path, catalogue name or Hub repo) sits above this, in ``ganzoo.sources``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.card import model_card, search_tags
from ganzoo.errors import (
    GanzooError,
    GeneratorConfigError,
    MissingPluginError,
    UnsafeFileError,
    UsageError,
    WeightsMismatchError,
    fold,
)
from ganzoo.files import writing
from ganzoo.folder import (
    CONFIG_FILE,
    LIBRARY,
    PICKLE_SUFFIXES,
    WEIGHTS_FILE,
    folder_problem,
    pickle_refusal,
    read_generator_config,
    validate_config,
)
from ganzoo.packaging import save_generator
from ganzoo.values import check_repo_id
from ganzoo.version import __version__

if TYPE_CHECKING:
    from ganzoo.generator import Generator

__all__ = [
    "save_generator",
    "parse_repo",
    "push_generator",
    "push_run",
    "pull_generator",
    "search_generators",
    "read_generator_config",
    "validate_config",
    "model_card",
    "search_tags",
    "check_repo_id",
    "require_token",
    "folder_problem",
    "HubError",
    "UnsafeFileError",
    "GeneratorConfigError",
    "WeightsMismatchError",
    "MissingPluginError",
]

HUB_PREFIX = "hf-hub:"


class HubError(GanzooError):
    """The Hub could not be reached, or it refused or could not answer a request."""


class MissingFileError(HubError):
    """A file the Hub repo (at that revision) does not have."""


def parse_repo(spec: str) -> tuple[str, str | None]:
    """``[hf-hub:]namespace/name[@revision]`` -> (repo_id, revision or None)."""
    text = spec[len(HUB_PREFIX) :] if spec.startswith(HUB_PREFIX) else spec
    repo_id, at, revision = text.partition("@")
    if at and not revision.strip():
        raise UsageError(f"{spec!r} ends with '@' but names no revision")
    return check_repo_id(repo_id), (revision if at else None)


# --------------------------------------------------------------------------------------------------------------------
# The Hub


def _hf() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise GanzooError("Hub support needs huggingface_hub: pip install huggingface_hub") from None
    return huggingface_hub


def _endpoint() -> str:
    _hf()
    from huggingface_hub import constants

    return constants.ENDPOINT


def is_offline() -> bool:
    _hf()
    from huggingface_hub import constants

    check = getattr(constants, "is_offline_mode", None)
    return bool(check() if callable(check) else getattr(constants, "HF_HUB_OFFLINE", False))


def _http_base_error() -> type | None:
    """httpx's (1.x) or httpx2's (2.x) HTTPError, found through huggingface_hub's own error class."""
    from huggingface_hub.errors import HfHubHTTPError

    for cls in HfHubHTTPError.__mro__[1:]:
        if cls.__name__ == "HTTPError" and cls.__module__.split(".")[0].startswith("httpx"):
            return cls
    return None


def _is_transport_error(exc: BaseException) -> bool:
    from huggingface_hub.errors import HfHubHTTPError

    base = _http_base_error()
    if base is not None and isinstance(exc, base) and not isinstance(exc, HfHubHTTPError):
        return type(exc).__name__ != "HTTPStatusError"
    return isinstance(exc, (ConnectionError, TimeoutError))


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def describe_hub_error(
    exc: BaseException,
    action: str,
    repo_id: str | None = None,
    revision: str | None = None,
    filename: str | None = None,
) -> str | None:
    """One line saying what failed for a huggingface_hub exception, or None when it is not a Hub failure."""
    from huggingface_hub import errors

    endpoint = _endpoint()
    repo = repo_id or "the repo"
    at = f"{repo}@{revision}" if revision else repo
    local_missing = getattr(errors, "LocalEntryNotFoundError", ())
    if isinstance(exc, errors.OfflineModeIsEnabled) or (
        is_offline() and isinstance(exc, (local_missing, FileNotFoundError))
    ):
        return (
            f"cannot {action}: {at} is not in the local cache and HF_HUB_OFFLINE=1 forbids downloads; "
            f"run `ganzoo pull {repo}` while online, or unset HF_HUB_OFFLINE"
        )
    if isinstance(exc, errors.RevisionNotFoundError):
        return (
            f"cannot {action}: {repo} has no revision {revision or 'main'!r} on {endpoint} "
            "(check --revision or the @REVISION part)"
        )
    if isinstance(exc, errors.RepositoryNotFoundError):
        if _status(exc) == 401 and "Invalid credentials" in str(getattr(exc, "server_message", "") or exc):
            return _bad_token(action, endpoint)
        return (
            f"cannot {action}: repo {repo} was not found on {endpoint} (check the name; a private repo also needs a "
            f"token that may read it: --token or HF_TOKEN)"
        )
    if local_missing and isinstance(exc, local_missing):
        cause = exc.__cause__ or exc.__context__
        if cause is not None and _status(cause) == 401:
            return _bad_token(action, endpoint)
        why = fold(f"{type(cause).__name__}: {cause}", 160) if cause is not None else "no answer"
        return (
            f"cannot {action}: the Hub at {endpoint} cannot be reached ({why}) and {at} is not in the local cache; "
            f"check the connection or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use cached files"
        )
    if isinstance(exc, errors.EntryNotFoundError) or (
        isinstance(exc, errors.HfHubHTTPError) and _status(exc) == 404 and filename
    ):
        return (
            f"cannot {action}: {at} has no file {filename!r}"
            if filename
            else f"cannot {action}: a file is missing from {at}"
        )
    if isinstance(exc, errors.HfHubHTTPError):
        status = _status(exc)
        if status == 401:
            return _bad_token(action, endpoint)
        if status == 403:
            return (
                f"cannot {action}: {endpoint} refused access to {repo} (403 Forbidden); "
                "the token needs write access to it"
            )
        message = getattr(exc, "server_message", None) or str(exc).strip().splitlines()[0]
        return f"cannot {action}: {endpoint} answered {status}: {fold(message, 200)}"
    if _is_transport_error(exc):
        return (
            f"cannot {action}: the Hub at {endpoint} cannot be reached ({fold(f'{type(exc).__name__}: {exc}', 160)}); "
            f"check the connection or HF_ENDPOINT"
        )
    if isinstance(exc, getattr(errors, "HFValidationError", ())):
        return f"cannot {action}: {fold(exc, 200)}"
    return None


def _bad_token(action: str, endpoint: str) -> str:
    return (
        f"cannot {action}: {endpoint} rejected the token (401 Unauthorized); check HF_TOKEN, --token or `hf auth login`"
    )


@contextmanager
def hub_errors(
    action: str, repo_id: str | None = None, revision: str | None = None, filename: str | None = None
) -> Iterator[None]:
    """Turn huggingface_hub and network failures inside the block into one-line HubErrors.

    huggingface_hub's own warnings (its retry lines) are silenced inside the block: ganzoo's line says what failed.
    """
    import logging

    hub_logger = logging.getLogger("huggingface_hub")
    level = hub_logger.level
    hub_logger.setLevel(logging.ERROR)
    try:
        yield
    except GanzooError:
        raise
    except Exception as exc:
        message = describe_hub_error(exc, action, repo_id, revision, filename)
        if message is None:
            raise
        from huggingface_hub import errors

        missing = isinstance(exc, errors.EntryNotFoundError) and not isinstance(
            exc, getattr(errors, "LocalEntryNotFoundError", ())
        )
        raise (MissingFileError if missing else HubError)(message) from None
    finally:
        hub_logger.setLevel(level)


PROBE_TIMEOUT = 3.0  # seconds to open a connection to the Hub before calling it unreachable
_probed: dict[str, str | None] = {}


def _uses_proxy() -> bool:
    return any(
        os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
    )


def unreachable_reason(endpoint: str | None = None) -> str | None:
    """Why the Hub endpoint cannot be reached (a short reason), or None when a connection opens.

    One TCP connection with a short timeout, once per process and endpoint: without it an offline machine waits
    through huggingface_hub's retries with back-off (20-25 s) before any error. Skipped (None) behind a proxy.
    """
    import socket
    from urllib.parse import urlsplit

    endpoint = endpoint or _endpoint()
    if endpoint in _probed:
        return _probed[endpoint]
    reason = None
    if not _uses_proxy():
        url = urlsplit(endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            socket.create_connection((url.hostname or "", port), timeout=PROBE_TIMEOUT).close()
        except OSError as exc:
            reason = fold(f"{type(exc).__name__}: {exc.strerror or exc}", 160)
    _probed[endpoint] = reason
    return reason


def _unreachable_error(action: str, reason: str, cached_note: str = "") -> HubError:
    return HubError(
        f"cannot {action}: the Hub at {_endpoint()} cannot be reached ({reason}){cached_note}; "
        f"check the connection or HF_ENDPOINT"
        + (", or set HF_HUB_OFFLINE=1 to use cached files" if cached_note else "")
    )


def _require_reachable(action: str) -> None:
    """Fail at once, in one line, when the Hub cannot be reached (and offline mode is not on)."""
    if is_offline():
        raise HubError(f"cannot {action}: HF_HUB_OFFLINE=1 forbids talking to the Hub; unset it to go online")
    reason = unreachable_reason()
    if reason is not None:
        raise _unreachable_error(action, reason)


def require_token(token: str | None = None) -> str:
    """The Hub token to write with (``token``, else HF_TOKEN or the saved login), or a GanzooError saying how to
    set one."""
    if token:
        return token
    found = _hf().get_token()
    if not found:
        raise GanzooError(
            "no Hub token found: publishing needs a token with write access; set HF_TOKEN, pass --token, "
            "or log in once with `hf auth login`"
        )
    return found


def download(repo_id: str, filename: str, revision: str | None, token: str | None) -> Path:
    """One file of a repo through huggingface_hub's cache; from the cache alone when the Hub cannot be reached."""
    hf = _hf()
    from huggingface_hub.errors import LocalEntryNotFoundError

    action = f"download {filename} from {repo_id}"
    reason = None if is_offline() else unreachable_reason()
    with hub_errors(action, repo_id, revision, filename), writing(f"{filename} of {repo_id}", _cache_dir()):
        try:
            return Path(
                hf.hf_hub_download(
                    repo_id,
                    filename,
                    revision=revision,
                    token=token,
                    library_name=LIBRARY,
                    library_version=__version__,
                    local_files_only=reason is not None,
                )
            )
        except LocalEntryNotFoundError:
            if reason is None:
                raise
    at = f"{repo_id}@{revision}" if revision else repo_id
    raise _unreachable_error(action, reason, f" and {at} is not in the local cache")


def _cache_dir() -> str:
    """The folder huggingface_hub downloads into (its cache), for messages."""
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def cached_file(repo_id: str, filename: str, revision: str | None) -> Path | None:
    """The Hub cache's copy of one file of a repo at a revision, or None when it is not cached (no network)."""
    hf = _hf()
    found = hf.try_to_load_from_cache(repo_id, filename, revision=revision)
    return Path(found) if isinstance(found, str) else None


def head_commit(repo_id: str, revision: str | None = None, token: str | None = None) -> str:
    """The commit (40 hex digits) a branch of a Hub repo points at now."""
    hf = _hf()
    _require_reachable(f"read the commit of {repo_id}")
    with hub_errors(f"read the commit of {repo_id}", repo_id, revision):
        return str(
            hf.HfApi(library_name=LIBRARY, library_version=__version__, token=token)
            .model_info(repo_id, revision=revision)
            .sha
        )


def _safe_repo_name(name: str) -> bool:
    """A file name in a repo listing that stays inside the folder it is downloaded to."""
    parts = name.split("/")
    return (
        bool(name)
        and not name.startswith("/")
        and "\\" not in name
        and "\0" not in name
        and all(p not in ("", ".", "..") for p in parts)
    )


def _repo_files(repo_id: str, revision: str | None, token: str | None) -> list[str]:
    hf = _hf()
    _require_reachable(f"list the files of {repo_id}")
    with hub_errors(f"list the files of {repo_id}", repo_id, revision):
        names = list(hf.HfApi(token=token).list_repo_files(repo_id, revision=revision))
    unsafe = [n for n in names if not _safe_repo_name(n)]
    if unsafe:
        raise HubError(
            f"{repo_id} lists a file named {unsafe[0]!r}, which would land outside its folder; refusing the repo"
        )
    return names


def load_from_hub(repo_id: str, revision: str | None, device: Any, token: str | None) -> Generator:
    """A generator from a Hub repo at a revision: config.json checked, the plugin found, then the weights."""
    from ganzoo.loading import (  # builds networks: torch, kept off the Hub commands' start
        architecture_entry,
        load_checked,
    )

    config_path = download(repo_id, CONFIG_FILE, revision, token)
    where = f"{HUB_PREFIX}{repo_id}" + (f"@{revision}" if revision else "")
    config = read_generator_config(config_path, f"{where} {CONFIG_FILE}")
    architecture_entry(config)  # a missing plugin is reported before the weights are downloaded
    try:
        weights = download(repo_id, WEIGHTS_FILE, revision, token)
    except MissingFileError:
        try:
            pickles = sorted(f for f in _repo_files(repo_id, revision, token) if f.lower().endswith(PICKLE_SUFFIXES))
        except HubError:
            pickles = []
        if pickles:
            raise pickle_refusal(where, pickles) from None
        raise
    return load_checked(config, weights, f"{where} {CONFIG_FILE}", f"{where} {WEIGHTS_FILE}", device)


def push_generator(
    source: Any,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    create_pr: bool = False,
    token: str | None = None,
    with_discriminator: bool = False,
    message: str | None = None,
    ema: bool = True,
    license: str | None = None,
    dtype: str = "float32",
) -> str:
    """Publish a run (or generator folder, or Generator) as a Hub repo in one commit; returns the repo (or PR) URL.

    The whole generator folder is built and checked first (weights against the architecture, finite values), then
    a token is required, and only then is the Hub called: a bad folder never creates an empty repo.
    """
    hf = _hf()
    check_repo_id(repo_id)
    if revision is not None and not revision.strip():
        raise UsageError("--revision must name a branch")
    with tempfile.TemporaryDirectory(prefix="ganzoo-push-") as tmp:
        folder = save_generator(
            source,
            Path(tmp) / "generator",
            ema=ema,
            with_discriminator=with_discriminator,
            repo_id=repo_id,
            license=license,
            dtype=dtype,
        )
        config = json.loads((folder / CONFIG_FILE).read_text())
        token = require_token(token)
        _require_reachable(f"push to {repo_id}")
        api = hf.HfApi(library_name=LIBRARY, library_version=__version__, token=token)
        with hub_errors(f"create repo {repo_id}", repo_id):
            api.create_repo(repo_id, private=True if private else None, exist_ok=True)
        if revision and revision != "main":
            with hub_errors(f"create branch {revision!r} in {repo_id}", repo_id):
                api.create_branch(repo_id, branch=revision, exist_ok=True)
        operations = [
            hf.CommitOperationAdd(path_in_repo=path.name, path_or_fileobj=str(path))
            for path in sorted(folder.iterdir())
            if path.is_file()
        ]
        summary = message or (
            f"Upload {config.get('variant') or config['architecture']} generator "
            f"({config.get('steps', 0)} steps on {config.get('data') or 'unknown data'}) with ganzoo {__version__}"
        )
        with hub_errors(f"push to {repo_id}", repo_id, revision):
            info = api.create_commit(
                repo_id, operations, commit_message=summary, revision=revision, create_pr=create_pr
            )
    if create_pr and getattr(info, "pr_url", None):
        return str(info.pr_url)
    url = f"{api.endpoint}/{repo_id}"
    return url + (f"/tree/{revision}" if revision and revision != "main" else "")


def push_run(run_dir: str | os.PathLike, repo_id: str, **options: Any) -> str:
    """Publish a run folder's generator to ``repo_id`` (what ``ganzoo train --push-to-hub`` calls); returns the URL."""
    return push_generator(Path(run_dir), repo_id, **options)


def pull_generator(
    repo: str, revision: str | None = None, local_dir: str | os.PathLike | None = None, token: str | None = None
) -> Path:
    """Download a Hub repo (all its files) into the cache, or into ``local_dir``; returns the folder.

    Online, the repo's listing is checked first (no name may land outside the folder); when the Hub cannot be
    reached, a copy already in the cache is used.
    """
    hf = _hf()
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo_id, rev = parse_repo(repo)
    revision = revision or rev
    if local_dir is not None:
        target = Path(local_dir)
        if target.exists() and not target.is_dir():
            raise UsageError(f"--dir {target} exists and is not a folder")
        if any(p.exists() and not p.is_dir() for p in target.parents):
            raise UsageError(f"--dir {target} cannot be made: a parent of it is a file")
    reason = None if is_offline() else unreachable_reason()
    if reason is None and not is_offline():
        _repo_files(repo_id, revision, token)
    where = local_dir if local_dir is not None else _cache_dir()
    with hub_errors(f"pull {repo_id}", repo_id, revision), writing(f"the files of {repo_id}", where):
        try:
            path = hf.snapshot_download(
                repo_id,
                revision=revision,
                local_dir=str(local_dir) if local_dir is not None else None,
                token=token,
                library_name=LIBRARY,
                library_version=__version__,
                local_files_only=reason is not None,
            )
        except LocalEntryNotFoundError:
            if reason is None:
                raise
            at = f"{repo_id}@{revision}" if revision else repo_id
            raise _unreachable_error(f"pull {repo_id}", reason, f" and {at} is not in the local cache") from None
    return Path(path)


def card_metrics(card_path: Path | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(front matter, metrics of the model-index) of a README.md, both empty when there is none."""
    if card_path is None or not card_path.is_file():
        return {}, []
    from huggingface_hub import ModelCard

    try:
        card = ModelCard.load(card_path, ignore_metadata_errors=True)
    except Exception as exc:  # a broken card must not hide the config
        return {"error": fold(exc)}, []
    metrics = [
        {
            "metric": r.metric_name or r.metric_type,
            "type": r.metric_type,
            "value": r.metric_value,
            "dataset": r.dataset_name,
            "split": r.dataset_split,
        }
        for r in (card.data.eval_results or [])
    ]
    front = card.data.to_dict()
    if not metrics:
        metrics = [
            {
                "metric": item.get("metric"),
                "type": item.get("metric"),
                "value": item.get("value"),
                "dataset": item.get("dataset"),
                "split": item.get("split"),
            }
            for item in front.get("ganzoo_results") or []
            if isinstance(item, dict)
        ]
    return front, metrics


def _tag_value(tags: list[str], key: str) -> str | None:
    prefix = f"{LIBRARY}-{key}:"
    return next((t[len(prefix) :] for t in tags if t.startswith(prefix)), None)


def search_generators(query: str | None = None, limit: int = 20, token: str | None = None) -> list[dict[str, Any]]:
    """Generators published with ``library_name: ganzoo``: id, variant, data, architecture, headline metric."""
    hf = _hf()
    api = hf.HfApi(library_name=LIBRARY, library_version=__version__, token=token)
    _require_reachable("search the Hub")
    with hub_errors("search the Hub"):
        models = list(api.list_models(filter=LIBRARY, search=query or None, limit=limit, cardData=True))
    found = []
    for model in models:
        tags = list(getattr(model, "tags", None) or [])
        card = getattr(model, "card_data", None)
        metric = None
        results = getattr(card, "eval_results", None) or []
        own = (
            getattr(card, "ganzoo_results", None)
            or (card.get("ganzoo_results") if isinstance(card, dict) else None)
            or []
        )
        if results:
            first = results[0]
            metric = {"name": first.metric_name or first.metric_type, "value": first.metric_value}
        elif own and isinstance(own[0], dict):
            metric = {"name": own[0].get("metric"), "value": own[0].get("value")}
        modified = getattr(model, "last_modified", None)
        found.append(
            {
                "id": model.id,
                "variant": _tag_value(tags, "variant"),
                "data": _tag_value(tags, "data"),
                "architecture": _tag_value(tags, "arch"),
                "loss": _tag_value(tags, "loss"),
                "metric": metric,
                "downloads": getattr(model, "downloads", None),
                "likes": getattr(model, "likes", None),
                "last_modified": modified.isoformat() if hasattr(modified, "isoformat") else modified,
            }
        )
    return found
