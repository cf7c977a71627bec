"""Generator folders and the Hub: save/load, push/pull/search/info through the real huggingface_hub client.

The Hub is tests/hubserver.py on 127.0.0.1. huggingface_hub reads HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE and
HF_HUB_DISABLE_XET when it is imported, so every command that talks to the Hub runs in a fresh process set up
for it. Importing torch dominates a process's start, so one process runs a whole batch of `ganzoo` commands
(through the CLI's own ``main``: each gets its exit code, stdout and stderr, and may change HF_TOKEN); a few
batches run side by side from one session fixture, and the tests below check what each command did.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

import ganzoo
from ganzoo import hub as hubmod
from ganzoo.sources import resolve_source
from hubserver import HubServer

TOKEN = "hf_ganzoo_test_token"
USER = "tester"
REPO = f"{USER}/dcgan-digits"
LFS_REPO = f"{USER}/dcgan-digits-lfs"
SEED = 7
N = 12

# Runs `ganzoo` commands one after another in this process: JSON [{args, env}] on stdin, JSON results on stdout.
BATCH = r"""
import contextlib, io, json, os, sys, time, traceback
from ganzoo.cli import main

calls = json.load(sys.stdin)
stdout, results = sys.stdout, []
for call in calls:
    saved = {key: os.environ.get(key) for key in call["env"]}
    os.environ.update(call["env"])
    out, err, start = io.StringIO(), io.StringIO(), time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(call["args"])
        except BaseException:
            traceback.print_exc()
            code = 99
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    results.append({"code": code, "out": out.getvalue(), "err": err.getvalue(), "seconds": time.perf_counter() - start})
stdout.write(json.dumps(results))
"""


@dataclass
class Result:
    code: int
    out: str
    err: str
    args: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:  # what a failed assertion shows
        return (
            f"ganzoo {' '.join(self.args)} -> {self.code} ({self.seconds:.1f}s)\nstdout: {self.out}\nstderr: {self.err}"
        )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(hub: HubServer, home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GANZOO_", "HF_", "HUGGING_FACE_")) and k != "TRANSFORMERS_OFFLINE" or k == "GANZOO_DEVICE"
    }
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HOME=str(home),
        HF_TOKEN=TOKEN,
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        OMP_NUM_THREADS="1",
    )
    env.update(extra)
    return env


Call = tuple[str, tuple[str, ...], dict[str, str]]  # (name, ganzoo arguments, environment changes for this call)


def _batch(hub: HubServer, home: Path, calls: list[Call], **process_env: str) -> dict[str, Result]:
    """Run ``calls`` in one fresh process whose huggingface_hub sees ``process_env``; name -> Result."""
    home.mkdir(parents=True, exist_ok=True)
    payload = json.dumps([{"args": list(args), "env": env} for _, args, env in calls])
    proc = subprocess.run(
        [sys.executable, "-c", BATCH],
        input=payload,
        capture_output=True,
        text=True,
        env=_env(hub, home, **process_env),
        timeout=300,
        cwd=home.parent,
    )
    assert proc.returncode == 0, f"the batch process failed:\n{proc.stdout}\n{proc.stderr}"
    answers = json.loads(proc.stdout)
    return {
        name: Result(a["code"], a["out"], a["err"], list(args), a["seconds"])
        for (name, args, _), a in zip(calls, answers)
    }


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> ganzoo.training.Run:
    """One tiny DCGAN run on digits (trained once per session); it has EMA weights and an eval.json."""
    out = tmp_path_factory.mktemp("run") / "dcgan"
    run = ganzoo.train(
        "dcgan", data="digits", steps=4, out=out, set=["arch.g_width=4", "arch.d_width=4"], log_every=2, progress=False
    )
    (out / "eval.json").write_text(
        json.dumps(
            [
                {
                    "metric": "fid",
                    "values": {"fid": 321.5},
                    "protocol": {"data": "digits", "split": "test", "n_generated": 500, "features": "digits-cnn"},
                },
                {"metric": "prdc", "values": {"precision": 0.25, "recall": 0.5}, "protocol": {"split": "test"}},
            ]
        )
    )
    return run


@pytest.fixture(scope="session")
def generator_folder(tiny_run, tmp_path_factory) -> Path:
    """A saved generator folder of the tiny run (tests copy it before spoiling it)."""
    return ganzoo.save_generator(tiny_run, tmp_path_factory.mktemp("gen") / "dcgan-digits", repo_id=REPO)


@pytest.fixture(scope="session")
def hub():
    with HubServer({TOKEN: USER}) as server:
        yield server


@pytest.fixture(scope="session")
def jobs(hub, tiny_run, generator_folder, tmp_path_factory) -> dict[str, Result]:
    """Every Hub-facing command of this file, in four processes; "batch/name" -> Result."""
    base = tmp_path_factory.mktemp("hub-jobs")
    run_dir = str(tiny_run.path)
    folder = generator_folder
    seeded = {name: (folder / name).read_bytes() for name in ("config.json", "model.safetensors", "README.md")}
    hub.use_lfs(LFS_REPO)
    hub.put_repo(f"{USER}/seeded", seeded)
    hub.put_repo(f"{USER}/secret", seeded, private=True)
    hub.put_repo(f"{USER}/config-only", {"config.json": seeded["config.json"]})
    hub.put_repo(
        f"{USER}/pickle-only",
        {"config.json": seeded["config.json"], "pytorch_model.bin": b"\x80\x04not really a pickle"},
    )
    options = json.loads((folder / "config.json").read_text())["architecture_options"]
    misfit = str(_spoil(folder, base / "misfit", architecture_options={**options, "g_width": 8}))
    (base / "a-file").write_text("not a folder")
    paths = {
        "out": str(base / "samples.npy"),
        "offline": str(base / "offline.npy"),
        "lfs_dir": str(base / "lfs-pulled"),
    }
    sample = ("-n", str(N), "--seed", str(SEED), "--format", "npy", "--device", "cpu")
    bad = {"HF_TOKEN": "hf_not_a_real_token"}
    online: list[Call] = [
        # xet enabled (the default): the server answers "regular" at preupload
        ("push", ("push", run_dir, REPO, "-m", "first generator"), {}),
        # nothing of these repos is cached yet: the faults cannot fall back on the cache
        ("bad-token", ("pull", f"{USER}/seeded"), bad),
        ("bad-token-push", ("push", run_dir, f"{USER}/other"), bad),
        ("anonymous", ("pull", f"{USER}/secret"), {"HF_TOKEN": ""}),
        ("missing-repo", ("pull", f"{USER}/no-such-repo"), {}),
        ("missing-revision", ("pull", f"hf-hub:{USER}/seeded@no-such-branch"), {}),
        ("missing-revision-sample", ("sample", f"hf-hub:{USER}/seeded@no-such-branch"), {}),
        ("missing-file", ("sample", f"hf-hub:{USER}/config-only"), {}),
        ("pickle-only", ("sample", f"{USER}/pickle-only"), {}),
        ("bad-repo-id", ("push", run_dir, "not/a/repo"), {}),
        ("no-token-push", ("push", run_dir, f"{USER}/tokenless"), {"HF_TOKEN": ""}),
        ("misfit-push", ("push", misfit, f"{USER}/misfit"), {}),
        ("pull-into-file", ("pull", f"{USER}/seeded", "--dir", str(base / "a-file" / "sub")), {}),
        # the round trip: pull into an empty cache, sample from the repo
        ("pull", ("pull", REPO), {}),
        ("sample", ("sample", f"hf-hub:{REPO}", *sample, "-o", paths["out"]), {}),
        ("search", ("search", "--json"), {}),
        ("search-none", ("search", "no-such-thing"), {}),
        ("info", ("info", REPO), {}),
        ("branch", ("push", run_dir, f"{USER}/branchy", "--revision", "dev", "--with-discriminator"), {}),
        ("pr", ("push", run_dir, f"{USER}/branchy", "--create-pr", "-m", "a proposal"), {}),
        (
            "train",
            (
                "train",
                "gan",
                "--data",
                "ring",
                "--steps",
                "4",
                "--set",
                "arch.g_width=8",
                "--set",
                "arch.d_width=8",
                "--log-every",
                "2",
                "--out",
                str(base / "ring-run"),
                "--push-to-hub",
                f"{USER}/gan-ring",
            ),
            {},
        ),
    ]
    # xet disabled, server answers "lfs": the LFS batch API, PUT and verify
    lfs: list[Call] = [
        ("push", ("push", run_dir, LFS_REPO), {}),
        ("pull", ("pull", LFS_REPO, "--dir", paths["lfs_dir"]), {}),
    ]
    # a closed port (pull: a cold-cache `sample` makes huggingface_hub retry with backoff for ~20 s first)
    unreachable: list[Call] = [
        ("pull", ("pull", f"{USER}/seeded"), {}),
        ("push", ("push", run_dir, f"{USER}/other"), {}),
        ("search", ("search",), {}),
        ("sample", ("sample", f"hf-hub:{USER}/seeded", "-o", str(base / "never.png")), {}),
        ("info", ("info", f"{USER}/seeded"), {}),
    ]
    results: dict[str, Result] = {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            "online": pool.submit(_batch, hub, base / "online" / "hf-home", online),
            "lfs": pool.submit(_batch, hub, base / "lfs" / "hf-home", lfs, HF_HUB_DISABLE_XET="1"),
            "unreachable": pool.submit(
                _batch,
                hub,
                base / "unreachable" / "hf-home",
                unreachable,
                HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",
            ),
        }
        for batch, future in futures.items():
            results.update({f"{batch}/{name}": result for name, result in future.result().items()})
    # offline, on the cache the online batch filled
    offline: list[Call] = [
        ("sample", ("sample", f"hf-hub:{REPO}", *sample, "-o", paths["offline"]), {}),
        ("uncached", ("pull", f"{USER}/seeded"), {}),
        ("search", ("search",), {}),
    ]
    results.update(
        {f"offline/{k}": v for k, v in _batch(hub, base / "online" / "hf-home", offline, HF_HUB_OFFLINE="1").items()}
    )
    results["_paths"] = Result(0, json.dumps(paths), "")
    return results


def _paths(jobs) -> dict[str, str]:
    return json.loads(jobs["_paths"].out)


def _one_error_line(result: Result) -> str:
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("ganzoo: error: "), str(result)
    assert "Traceback" not in result.err, str(result)
    return lines[-1]


# --------------------------------------------------------------------------------------------------------------------
# Local folders: save, load, and refusing bad ones (no network)


def test_save_and_load_folder(tiny_run, generator_folder):
    names = sorted(p.name for p in generator_folder.iterdir())
    assert names == ["README.md", "config.json", "model.safetensors", "samples.png"]
    gen = ganzoo.load_generator(generator_folder, device="cpu")
    assert isinstance(gen, torch.nn.Module) and not gen.training
    assert gen.config["weights"] == "ema" and gen.config["latent_dim"] == 100
    assert gen.config["metrics"][0]["metric"] == "fid" and gen.config["metrics"][0]["protocol"]["split"] == "test"
    a, b = gen.sample(N, seed=SEED), gen.sample(N, seed=SEED)
    assert a.shape == (N, 1, 32, 32) and torch.equal(a, b) and a.abs().max() <= 1
    assert torch.equal(a, tiny_run.generator(device="cpu").sample(N, seed=SEED))
    # the weights are the bare network's state dict
    from safetensors.torch import load_file

    assert set(load_file(generator_folder / "model.safetensors")) == set(gen.net.state_dict())


def test_save_from_generator_object(tiny_run, tmp_path):
    gen = tiny_run.generator(device="cpu")
    folder = ganzoo.save_generator(gen, tmp_path / "again")
    assert torch.equal(ganzoo.load_generator(folder, device="cpu").sample(4, seed=1), gen.sample(4, seed=1))


def test_model_card_front_matter(generator_folder):
    from huggingface_hub import ModelCard

    card = ModelCard.load(generator_folder / "README.md")
    assert card.data.library_name == "ganzoo"
    for tag in ("ganzoo", "gan", "dcgan", "ganzoo-variant:dcgan", "ganzoo-data:digits", "ganzoo-arch:dcgan"):
        assert tag in card.data.tags
    # digits is no Hub data set: no model-index pointing at an unrelated one; the metrics go to ganzoo_results
    assert card.data.eval_results is None and card.data.datasets is None
    assert {(r["metric"], r["value"]) for r in card.data.ganzoo_results} >= {("fid", 321.5), ("prdc-recall", 0.5)}
    assert card.data.license == "cc-by-4.0"  # the digits data set's licence, by default
    assert f'ganzoo.load_generator("hf-hub:{REPO}").sample(16, seed=0)' in card.text
    assert "samples.png" in card.text


def test_existing_path_wins_over_repo_id(generator_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(generator_folder, tmp_path / "someone" / "model")
    assert not resolve_source("someone/model").is_hub
    assert ganzoo.load_generator("someone/model", device="cpu").sample(2, seed=0).shape == (2, 1, 32, 32)
    forced = resolve_source("hf-hub:someone/model@refs/pr/3")
    assert forced.is_hub and forced.repo_id == "someone/model" and forced.revision == "refs/pr/3"
    assert resolve_source("other/name").is_hub


def _spoil(folder: Path, dest: Path, **changes) -> Path:
    shutil.copytree(folder, dest)
    config = json.loads((dest / "config.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (dest / "config.json").write_text(json.dumps(config))
    return dest


def test_pickle_only_folder_is_refused(generator_folder, tmp_path, run_cli):
    folder = tmp_path / "pickled"
    shutil.copytree(generator_folder, folder)
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04cos\nsystem\n(S'echo pwned'\ntR.")  # never read
    result = run_cli("sample", str(folder), "--device", "cpu", "-o", str(tmp_path / "x.png"))
    assert result.code == 1
    assert "pytorch_model.bin" in result.err and "pickle" in result.err and "arbitrary code" in result.err
    only = tmp_path / "only"
    only.mkdir()
    (only / "model.ckpt").write_bytes(b"junk")
    with pytest.raises(hubmod.UnsafeFileError, match="model.ckpt"):
        ganzoo.load_generator(only)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"latent_dim": 0}, "latent_dim must be an integer from 1 to 4096"),
        ({"latent_dim": 5000}, "latent_dim must be an integer from 1 to 4096"),
        ({"latent_dim": "100"}, "latent_dim must be an integer"),
        ({"sample_shape": [1, 99999, 32]}, "sample_shape must be a list"),
        ({"sample_shape": "1x32x32"}, "sample_shape must be a list"),
        ({"sample_shape": None}, "'sample_shape' is missing"),
        ({"module": "os"}, "'module' is not a key ganzoo writes"),
        ({"architecture": "os.path:join()"}, "architecture must be a registered name"),
        ({"architecture_options": {"g_width": "4; rm -rf /"}}, "option 'g_width'"),
        ({"architecture_options": {"factory": "subprocess.Popen"}}, "has no option 'factory'"),
        ({"ganzoo_generator": 99}, "newer than this ganzoo reads"),
    ],
)
def test_bad_config_is_refused(generator_folder, tmp_path, changes, message):
    folder = _spoil(generator_folder, tmp_path / "bad", **changes)
    with pytest.raises(ganzoo.GanzooError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        ganzoo.load_generator(folder)
    assert "\n" not in str(info.value)


def test_invalid_json_config(generator_folder, tmp_path, run_cli):
    folder = tmp_path / "broken"
    shutil.copytree(generator_folder, folder)
    (folder / "config.json").write_text('{"architecture": "dcgan",')
    result = run_cli("sample", str(folder), "-o", str(tmp_path / "x.png"))
    assert result.code == 1 and "config.json is not valid JSON" in result.err


def test_tensor_shape_mismatch(generator_folder, tmp_path, run_cli):
    options = json.loads((generator_folder / "config.json").read_text())["architecture_options"]
    folder = _spoil(generator_folder, tmp_path / "wide", architecture_options={**options, "g_width": 8})
    result = run_cli("sample", str(folder), "--device", "cpu", "-o", str(tmp_path / "x.png"))
    assert result.code == 1
    line = result.err.strip().splitlines()[-1]
    assert line.startswith("ganzoo: error: ") and "does not fit architecture 'dcgan'" in line
    assert (
        "tensor 'net.1.weight' has shape [100, 16, 4, 4] in the file, the architecture expects [100, 32, 4, 4]" in line
    )


def test_missing_tensor(generator_folder, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "partial"
    shutil.copytree(generator_folder, folder)
    tensors = load_file(folder / "model.safetensors")
    tensors.pop("net.1.weight")
    tensors["extra.weight"] = torch.zeros(2)
    save_file(tensors, folder / "model.safetensors")
    with pytest.raises(
        hubmod.WeightsMismatchError, match=r"'net.1.weight' \[100, 16, 4, 4\] is missing .*\(and 1 more\)"
    ):
        ganzoo.load_generator(folder)


def test_architecture_from_missing_plugin(generator_folder, tmp_path, run_cli):
    plugin = {"name": "xyz", "plugin": "xyz", "distribution": "ganzoo-xyz", "version": "0.3.1"}
    folder = _spoil(generator_folder, tmp_path / "xyz", architecture="xyz", architecture_plugin=plugin)
    result = run_cli("sample", str(folder), "-o", str(tmp_path / "x.png"))
    assert result.code == 1
    assert "ganzoo install ganzoo-xyz" in result.err and "plugin 'xyz'" in result.err and "not installed" in result.err
    result = run_cli("info", str(folder))
    assert result.code == 0 and "architecture: xyz" in result.out  # describing needs no plugin


def test_info_on_a_local_generator(generator_folder, run_cli):
    result = run_cli("info", str(generator_folder))
    assert result.code == 0, result.err
    assert "architecture: dcgan" in result.out and "fid: fid=321.5" in result.out and "split=test" in result.out
    data = json.loads(run_cli("info", str(generator_folder), "--json").out)
    assert data["config"]["variant"] == "dcgan" and data["card"]["metrics"][0]["value"] == 321.5
    assert run_cli("info", "dcgan").code == 0  # registry names still work


# --------------------------------------------------------------------------------------------------------------------
# The Hub, through the real client


def test_push_prints_the_repo_url(jobs, hub):
    result = jobs["online/push"]
    assert result.code == 0, str(result)
    assert result.out.strip().splitlines()[-1] == f"{hub.url}/{REPO}"


def test_push_default_path_uploads_regular_files(jobs, hub, tmp_path):
    assert jobs["online/push"].code == 0
    files = hub.files(REPO)
    assert {"config.json", "model.safetensors", "README.md", "samples.png"} <= set(files)
    assert not any(blob.lfs for blob in files.values())
    assert not [r for r in hub.requests() if f"/{REPO}.git/" in r[1]]  # no LFS batch call
    commits = [r for r in hub.requests() if r[0] == "POST" and r[1].startswith(f"/api/models/{REPO}/commit/")]
    assert len(commits) == 1  # everything in one commit
    from huggingface_hub import ModelCard

    (tmp_path / "README.md").write_bytes(files["README.md"].data)
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.library_name == "ganzoo" and "ganzoo-variant:dcgan" in card.data.tags
    assert json.loads(files["config.json"].data)["variant"] == "dcgan"


def test_push_lfs_path_with_xet_disabled(jobs, hub, tiny_run):
    assert jobs["lfs/push"].code == 0, str(jobs["lfs/push"])
    files = hub.files(LFS_REPO)
    assert files["model.safetensors"].lfs and not files["config.json"].lfs
    requests = hub.requests()
    assert any(r[1] == f"/{LFS_REPO}.git/info/lfs/objects/batch" and r[2] == 200 for r in requests)
    assert any(r[0] == "PUT" and r[1].startswith("/__lfs__/upload/") for r in requests)
    assert any(r[0] == "POST" and r[1].startswith("/__lfs__/verify/") for r in requests)
    pulled = jobs["lfs/pull"]
    assert pulled.code == 0, str(pulled)
    folder = Path(pulled.out.strip().splitlines()[-1])
    assert folder == Path(_paths(jobs)["lfs_dir"]).resolve()
    gen = ganzoo.load_generator(folder, device="cpu")
    assert torch.equal(gen.sample(N, seed=SEED), tiny_run.generator(device="cpu").sample(N, seed=SEED))


def test_round_trip_gives_the_runs_samples(jobs, tiny_run):
    pulled = jobs["online/pull"]
    assert pulled.code == 0, str(pulled)
    snapshot = Path(pulled.out.strip().splitlines()[-1])
    assert (snapshot / "model.safetensors").is_file() and "hf-home" in str(snapshot)
    sampled = jobs["online/sample"]
    assert sampled.code == 0, str(sampled)
    expected = tiny_run.generator(device="cpu").sample(N, seed=SEED)
    got = torch.from_numpy(np.load(_paths(jobs)["out"]))
    assert torch.equal(got, expected)


def test_offline_mode_uses_the_cache(jobs, tiny_run):
    result = jobs["offline/sample"]
    assert result.code == 0, str(result)
    got = torch.from_numpy(np.load(_paths(jobs)["offline"]))
    assert torch.equal(got, tiny_run.generator(device="cpu").sample(N, seed=SEED))


def test_search_lists_ganzoo_generators(jobs):
    result = jobs["online/search"]
    assert result.code == 0, str(result)
    found = {item["id"]: item for item in json.loads(result.out)}
    assert REPO in found and f"{USER}/config-only" not in found  # a repo without the ganzoo card is not listed
    item = found[REPO]
    assert (item["variant"], item["data"], item["architecture"]) == ("dcgan", "digits", "dcgan")
    assert item["metric"] == {"name": "fid", "value": 321.5}
    none = jobs["online/search-none"]
    assert none.code == 0 and "no ganzoo generators found" in none.out


def test_info_on_a_hub_repo(jobs):
    result = jobs["online/info"]
    assert result.code == 0, str(result)
    assert f"generator hf-hub:{REPO}" in result.out and "latent_dim: 100" in result.out
    assert "metrics (model card):" in result.out and "fid: 321.5 (digits, test)" in result.out


def test_push_to_a_branch_and_a_pull_request(jobs, hub):
    branch = jobs["online/branch"]
    assert branch.code == 0, str(branch)
    assert branch.out.strip().endswith(f"/{USER}/branchy/tree/dev")
    assert "discriminator.safetensors" in hub.files(f"{USER}/branchy", "dev")
    assert "discriminator.safetensors" not in hub.files(f"{USER}/branchy", "main")
    pr = jobs["online/pr"]
    assert pr.code == 0, str(pr)
    assert pr.out.strip().endswith(f"/{USER}/branchy/discussions/1")
    assert "model.safetensors" in hub.files(f"{USER}/branchy", "refs/pr/1")


def test_train_push_to_hub(jobs, hub):
    result = jobs["online/train"]
    assert result.code == 0, str(result)
    assert f"pushed:     {hub.url}/{USER}/gan-ring" in result.out
    files = hub.files(f"{USER}/gan-ring")
    config = json.loads(files["config.json"].data)
    assert (config["variant"], config["data_kind"], config["sample_shape"]) == ("gan", "points", [2])
    assert files["samples.png"].data.startswith(b"\x89PNG")  # a scatter plot for 2D points


def test_private_repo_needs_a_token(jobs):
    line = _one_error_line(jobs["online/anonymous"])
    assert jobs["online/anonymous"].code == 1 and f"repo {USER}/secret was not found" in line


@pytest.mark.parametrize(
    "job, expected",
    [
        ("online/missing-repo", [f"repo {USER}/no-such-repo was not found on http://127.0.0.1:"]),
        ("online/missing-revision", [f"{USER}/seeded has no revision 'no-such-branch'"]),
        ("online/missing-revision-sample", [f"{USER}/seeded has no revision 'no-such-branch'"]),
        ("online/missing-file", [f"{USER}/config-only has no file 'model.safetensors'"]),
        ("online/pickle-only", ["pytorch_model.bin", "pickle", "never loads"]),
        ("online/bad-token", ["rejected the token (401 Unauthorized)", "HF_TOKEN"]),
        ("online/bad-token-push", ["cannot create repo", "rejected the token (401 Unauthorized)"]),
        ("unreachable/pull", ["cannot pull", "cannot be reached", "Connect", "not in the local cache", "HF_ENDPOINT"]),
        ("unreachable/push", ["cannot push", "cannot be reached", "HF_ENDPOINT"]),
        ("unreachable/search", ["cannot search the Hub", "cannot be reached", "HF_ENDPOINT"]),
        ("unreachable/sample", ["cannot download config.json", "cannot be reached", "not in the local cache"]),
        ("unreachable/info", ["cannot download config.json", "cannot be reached", "not in the local cache"]),
        ("offline/uncached", ["not in the local cache", "HF_HUB_OFFLINE"]),
        ("offline/search", ["cannot search the Hub", "HF_HUB_OFFLINE"]),
        ("online/no-token-push", ["no Hub token found", "HF_TOKEN", "--token", "hf auth login"]),
        ("online/misfit-push", ["does not fit architecture 'dcgan'"]),
    ],
)
def test_hub_faults_end_in_one_line(jobs, job, expected):
    result = jobs[job]
    line = _one_error_line(result)
    assert [x for x in result.err.splitlines() if x.strip()] == [line], str(result)  # no retry lines, no warnings
    assert result.code == 1, str(result)
    for text in expected:
        assert text in line, str(result)


def test_bad_repo_id_is_a_usage_error(jobs):
    result = jobs["online/bad-repo-id"]
    assert result.code == 2 and "is not a Hub repo id" in _one_error_line(result)


def test_nothing_reaches_the_hub_before_the_folder_is_checked(jobs, hub):
    assert jobs["online/misfit-push"].code == 1 and jobs["online/no-token-push"].code == 1
    touched = [r for r in hub.requests() if f"{USER}/misfit" in r[1] or f"{USER}/tokenless" in r[1]]
    assert touched == []  # no empty repo was created


def test_pull_into_a_path_under_a_file_is_a_usage_error(jobs):
    result = jobs["online/pull-into-file"]
    assert result.code == 2 and "a parent of it is a file" in _one_error_line(result)


def test_a_mistyped_local_path_is_not_a_hub_lookup(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    for source in ("runs/nope", "./nope", "runs/a/b"):
        result = run_cli("sample", source)
        assert result.code == 2 and result.err.strip().splitlines() == [result.err.strip()], result.err
        assert f"there is no folder {source}" in result.err
    assert "hf-hub:runs/nope" in run_cli("sample", "runs/nope").err  # how to mean the Hub repo instead
    assert resolve_source("someone/model").is_hub  # no folder 'someone' here: a repo id


@pytest.mark.parametrize("name", ["../escape.safetensors", "/etc/passwd", "a/../../b", "a\\b", ""])
def test_hub_listing_names_must_stay_inside(name):
    assert not hubmod._safe_repo_name(name)


def test_hub_listing_plain_names_are_fine():
    assert all(hubmod._safe_repo_name(n) for n in ("config.json", "model.safetensors", "sub/README.md"))
