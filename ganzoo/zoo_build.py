"""Making pretrained generators again from their catalogue recipes (``ganzoo zoo build``), and scoring their
published weights again against the figures their entries record (``ganzoo zoo verify``)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.errors import GanzooError, UsageError
from ganzoo.files import writing
from ganzoo.lock import folder_lock
from ganzoo.plugins import registry
from ganzoo.pretrained import Pretrained
from ganzoo.records import metric_entry_problem
from ganzoo.training import TrainRequest
from ganzoo.values import figure
from ganzoo.zoo import PREFIX, entry, require_published, sha256_of

if TYPE_CHECKING:
    from ganzoo.registry import Entry

__all__ = ["build", "verify", "DEFAULT_OUT"]

DEFAULT_OUT = "zoo-build"
RUNS = "runs"
BUILD_FILE = "zoo.json"  # in a build's run folder: the evaluation it last made, so a rebuild can reuse it


def _entries(names: Sequence[str]) -> list[Entry]:
    wanted = list(dict.fromkeys(n.strip() for n in ([names] if isinstance(names, str) else names) if n and n.strip()))
    if not wanted:
        raise UsageError("name at least one pretrained generator (see: ganzoo zoo)")
    return [entry(n.removeprefix(PREFIX)) for n in wanted]


def _check_out(out: Path) -> None:
    for path in (out, *out.parents):
        if path.is_symlink() or path.exists():
            if not path.is_dir():
                where = "is a file" if path == out else f"is under {path}, which is a file"
                raise UsageError(f"the build folder {out} {where}, not a folder; choose another --out")
            return


def _check_target(folder: Path) -> None:
    """``OUT/NAME`` may be missing, or a generator folder an earlier build wrote; anything else is left alone."""
    from ganzoo.folder import CONFIG_FILE, is_run_folder

    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise UsageError(f"{folder} exists and is not a folder; move it away or choose another --out")
    if folder.is_dir() and (is_run_folder(folder) or (not (folder / CONFIG_FILE).exists() and any(folder.iterdir()))):
        raise UsageError(
            f"{folder} holds something other than a generator folder; move it away or choose another --out"
        )


def _eval_kwargs(p: Pretrained) -> dict[str, Any]:
    ev = p.evaluation
    return {
        "data": ev["data"],
        "metrics": ev["metrics"],
        "n": ev["n"],
        "seed": ev["seed"],
        "split": ev["split"],
        "features": ev["features"],
        "options": ev["options"],
    }


def _plan(e: Entry, run_dir: Path, force: bool, device: str | None) -> tuple[Any, str]:
    """(training configuration, action): train, restart, resume or reuse; a UsageError when the folder holds another
    run."""
    from ganzoo.training.checkpoint import latest_step
    from ganzoo.training.rundir import refuse_other_run

    p: Pretrained = e.obj
    config = _request(e, device).resolve()
    if not (run_dir / "config.json").exists():
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"{run_dir} exists and is not a folder; choose another --out")
        return config, "train"
    if force:
        return config, "restart"
    refuse_other_run(run_dir, config, "pass --force to train it again, or choose another --out", here="in the entry")
    step = latest_step(run_dir)
    if step is None:
        return config, "restart"
    if step > p.steps:
        raise UsageError(
            f"{run_dir} is already at step {step}, beyond the entry's {p.steps}; pass --force to train it again"
        )
    return config, "reuse" if step == p.steps else "resume"


def _train(e: Entry, run_dir: Path, action: str, device: str | None) -> None:
    import contextlib
    import sys

    from ganzoo.training import train

    p: Pretrained = e.obj
    # the entry's precision (Pretrained.amp), not the machine's default: ganzoo's default is bf16 on CUDA and on CPUs
    # with native bf16, while the shipped entries were built in fp32 (a CPU rebuild repeats them bit for bit)
    amp = p.amp
    with contextlib.redirect_stdout(sys.stderr):  # stdout is for the catalogue values
        if action == "resume":
            train(resume=run_dir, steps=p.steps, device=device, amp=amp)
        else:
            train(dataclasses.replace(_request(e, device), out=run_dir, amp=amp, force=action == "restart"))


def _request(e: Entry, device: str | None) -> TrainRequest:
    """The training an entry's recipe asks for, on ``device``."""
    p: Pretrained = e.obj
    return TrainRequest(
        p.variant, data=p.data, steps=p.steps, batch_size=p.batch_size, seed=p.seed, set=list(p.sets), device=device
    )


def _evaluate(e: Entry, folder: Path, run_dir: Path, device: str | None) -> tuple[list[dict[str, Any]], bool]:
    """The entry's protocol measured on the generator folder (the published weights), or reused from the run's
    last build when that measured the same weights the same way; recorded in RUN/eval.json and RUN/zoo.json."""
    from ganzoo.files import write_json
    from ganzoo.folder import WEIGHTS_FILE, read_generator_config
    from ganzoo.metrics.report import evaluate_source, record_eval

    p: Pretrained = e.obj
    key = {"evaluation": dict(p.evaluation), "dtype": p.dtype, "sha256": sha256_of(folder / WEIGHTS_FILE)}
    try:
        last = json.loads((run_dir / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = None
    reusable = isinstance(last, dict) and last.get("key") == key and isinstance(last.get("metrics"), list)
    if reusable and last["metrics"] and not any(metric_entry_problem(m) for m in last["metrics"]):
        return last["metrics"], True
    results, _ = evaluate_source(folder, device=device, record=False, **_eval_kwargs(p))
    config = read_generator_config(folder / "config.json")
    metrics = []
    for r in results:
        item = r.as_dict()
        protocol = {**item.get("protocol", {}), "dtype": p.dtype}
        metrics.append(
            {
                "metric": item["metric"],
                "values": {k: figure(v) for k, v in item["values"].items()},
                "protocol": protocol,
            }
        )
    record_eval(run_dir, metrics, step=config.get("steps"), weights=config.get("weights"))
    write_json(run_dir / BUILD_FILE, {"key": key, "metrics": metrics})
    return metrics, False


def build(
    names: Sequence[str],
    out: str | os.PathLike = DEFAULT_OUT,
    *,
    push: str | None = None,
    force: bool = False,
    device: str | None = None,
    token: str | None = None,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Train catalogue entries from their recipes into ``OUT/runs/NAME``, score them with their protocol and write the
    generator folders ``OUT/NAME`` (the entry's dtype and licence, model card included); returns, per entry, what the
    catalogue records: sha256, size, metrics (and hub_repo/hub_revision after ``push`` to ``ORG/NAME``).

    A finished run with the same configuration is reused (``force`` trains it again), as is its evaluation when the
    weights and protocol are the same. Every name, recipe and the push target are checked before anything is trained.
    """
    import sys
    import tempfile

    from ganzoo.folder import WEIGHTS_FILE
    from ganzoo.loading import load_folder
    from ganzoo.packaging import save_generator

    say = log or (lambda text: print(text, file=sys.stderr, flush=True))
    entries = _entries(names)
    out = Path(out)
    _check_out(out)
    if push is not None:
        from ganzoo.hub import check_repo_id, require_token

        for e in entries:
            check_repo_id(f"{push.strip('/')}/{e.name}")
        token = require_token(token)
    plans = {e.name: _plan(e, out / RUNS / e.name, force, device) for e in entries}  # recipes checked before training
    for e in entries:
        _check_target(out / e.name)
        ev = e.obj.evaluation
        reg = registry()
        for metric in ev["metrics"]:
            reg.get("metric", metric)
        if ev["features"]:
            reg.get("features", ev["features"])
        if ev["data"]:
            reg.get("dataset", ev["data"])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GanzooError(f"cannot make the build folder {out}: {exc.strerror or exc}; choose another --out") from None

    again = "run the same zoo build again (it keeps what is finished)"  # after a full disk
    with folder_lock(out, "build folder", "choose another --out"), writing(hint=again):
        built = []
        for e in entries:
            p: Pretrained = e.obj
            run_dir = out / RUNS / e.name
            _, action = plans[e.name]
            if action == "reuse":
                say(f"{e.name}: reusing the finished run {run_dir} (step {p.steps})")
            else:
                say(f"{e.name}: {'resuming' if action == 'resume' else 'training'} {p.recipe()} into {run_dir}")
                _train(e, run_dir, action, device)
            with tempfile.TemporaryDirectory(dir=out, prefix=f".{e.name}-") as tmp:
                first = save_generator(run_dir, Path(tmp) / e.name, dtype=p.dtype, license=p.license)
                metrics, reused = _evaluate(e, first, run_dir, device)
                say(
                    f"{e.name}: {'evaluation reused' if reused else 'evaluated'}: "
                    + ", ".join(
                        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for m in metrics
                        for k, v in m["values"].items()
                    )
                )
                gen = load_folder(first, device="cpu")
                gen.config = {**gen.config, "metrics": metrics}
                repo_id = f"{push.strip('/')}/{e.name}" if push else None
                folder = out / e.name
                save_generator(gen, folder, dtype=p.dtype, license=p.license, repo_id=repo_id)
            weights = folder / WEIGHTS_FILE
            result: dict[str, Any] = {
                "name": e.name,
                "folder": str(folder),
                "run": str(run_dir),
                "trained": action,
                "evaluation_reused": reused,
                "sha256": sha256_of(weights),
                "size": weights.stat().st_size,
                "metrics": metrics,
                "recorded_sha256": p.sha256,
                "tolerance_missing": [
                    name
                    for m in metrics
                    for name in m["values"]
                    if name not in p.tolerance and f"{m['metric']}.{name}" not in p.tolerance
                ],
                "tolerance": dict(p.tolerance),
                # what the entry holds now, so that only what changes is printed (a repeated keyword breaks the plugin)
                "recorded": {
                    key: getattr(p, key)
                    for key in ("sha256", "size", "metrics", "tolerance", "hub_repo", "hub_revision")
                },
            }
            if push:
                from ganzoo.hub import head_commit, push_generator

                say(f"{e.name}: pushing {folder} to {repo_id}")
                push_generator(
                    folder,
                    repo_id,
                    token=token,
                    license=p.license,
                    dtype=p.dtype,
                    message=f"ganzoo zoo build {e.name}: {p.recipe()}",
                )
                result["hub_repo"] = repo_id
                result["hub_revision"] = head_commit(repo_id, token=token)
            built.append(result)
        return built


def _number(value: Any) -> float | None:
    if value in ("inf", "-inf"):
        return math.inf if value == "inf" else -math.inf
    return None if value is None else float(value)


def _within(recorded: Any, measured: Any, tolerance: float) -> bool:
    a, b = _number(recorded), _number(measured)
    if a is None or b is None or math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tolerance + 1e-12 * max(1.0, abs(a))


def verify(names: Sequence[str], device: str | None = None) -> list[dict[str, Any]]:
    """Load each entry's published weights (sha256 checked), score them again with the recorded protocol, and compare
    with the recorded figures; per entry its rows (metric, value, recorded, measured, tolerance, ok)."""
    from ganzoo.metrics.report import evaluate_source

    entries = _entries(names)
    for e in entries:
        require_published(e)
    checked = []
    for e in entries:
        p: Pretrained = e.obj
        results, _ = evaluate_source(f"{PREFIX}{e.name}", device=device, record=False, **_eval_kwargs(p))
        measured = {r.metric: r.values for r in results}
        rows = []
        for item in p.metrics:
            for value_name, recorded in item["values"].items():
                got = measured.get(item["metric"], {}).get(value_name, "missing")
                got = None if got == "missing" else figure(got)
                tolerance = p.tolerance_for(item["metric"], value_name)
                present = value_name in measured.get(item["metric"], {})
                rows.append(
                    {
                        "metric": item["metric"],
                        "value": value_name,
                        "recorded": recorded,
                        "measured": got,
                        "tolerance": tolerance,
                        "ok": present and _within(recorded, got, tolerance),
                    }
                )
        checked.append({"name": e.name, "rows": rows, "ok": all(r["ok"] for r in rows)})
    return checked
