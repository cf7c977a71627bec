"""Tests of the built-in data-set plugin: digits, 2D mixtures, downloaded sets (offline fakes), folders, hf."""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import subprocess
import sys
import tarfile
import types
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo_datasets
from ganzoo.data import Samples
from ganzoo.errors import GanzooError, UsageError
from ganzoo_datasets import CIFAR10, HF, MNIST, Digits, FashionMNIST, Folder, Grid, Ring, fetch

REAL_DOWNLOAD = fetch._download  # kept before the autouse fixture replaces it


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """No test may download: every fetch fails as if offline unless a test patches it again."""

    def offline(url, path):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(fetch, "_download", offline)
    monkeypatch.delenv("GANZOO_DATA", raising=False)


# --------------------------------------------------------------------------- registration


def test_registered_names():
    from ganzoo.plugins import registry

    names = {entry.name for entry in registry().list("dataset")}
    assert {"digits", "ring", "grid", "mnist", "fashion-mnist", "cifar10", "folder", "hf"} <= names
    assert registry().get("dataset", "folder:/x").name == "folder"
    assert registry().get("dataset", "folder:/x").obj is Folder
    assert registry().get("dataset", "hf:owner/name").obj is HF
    assert registry().get("dataset", "digits").obj is Digits


def test_descriptions_options_and_kinds():
    for cls in (Digits, Ring, Grid, MNIST, FashionMNIST, CIFAR10, Folder, HF):
        assert cls.describe() and "\n" not in cls.describe()
    assert Digits.options()["size"].default == 32
    assert Ring.options()["n"].default == 100_000 and Ring.options()["seed"].default == 0
    assert MNIST.options()["root"].default == ""
    assert Folder.options()["size"].default == 64 and Folder.options()["skip_bad"].type is bool
    assert Folder.takes_argument and HF.takes_argument and not Digits.takes_argument
    assert Ring.kind == Grid.kind == "points"
    assert Digits.kind == MNIST.kind == CIFAR10.kind == Folder.kind == HF.kind == "image"
    assert Digits.create(size="16").size == 16
    assert Digits.create(size="16").get_options() == {"size": 16}


def test_import_does_not_load_heavy_modules():
    code = (
        "import ganzoo_datasets, sys; "
        "print(any(m in sys.modules for m in ('torch', 'numpy', 'sklearn', 'PIL', 'torchvision')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "make",
    [
        lambda: Digits(size=4),
        lambda: Ring(n=0),
        lambda: Grid(seed=1.5),
        lambda: MNIST(size=7),
        lambda: Folder("/x", channels=2),
        lambda: Folder(""),
        lambda: HF("", size=32),
    ],
)
def test_bad_options_are_usage_errors(make):
    with pytest.raises(UsageError):
        make()


@pytest.mark.parametrize("dataset", [Digits(), Ring(n=10), Grid(n=10), MNIST(), CIFAR10(), Folder("/x"), HF("a/b")])
def test_unknown_split_is_usage_error(dataset):
    with pytest.raises(UsageError, match="split"):
        dataset.load("validation")


# --------------------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def digits():
    return {split: Digits().load(split) for split in ("train", "test", "all")}


def test_digits_shapes_and_range(digits):
    for split, count in (("train", 1437), ("test", 360), ("all", 1797)):
        samples = digits[split]
        assert isinstance(samples, Samples)
        assert samples.kind == "image" and samples.num_classes == 10
        assert samples.data.shape == (count, 1, 32, 32) and samples.data.dtype == torch.uint8
        assert samples.labels.shape == (count,) and samples.labels.dtype == torch.int64
        assert int(samples.data.min()) == 0 and int(samples.data.max()) == 255
        assert sorted(samples.labels.unique().tolist()) == list(range(10))
        assert samples.info["name"] == "digits" and samples.info["split"] == split and samples.info["size"] == 32


def test_digits_split_contract(digits):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    labels = load_digits().target
    train, test = train_test_split(np.arange(1797), test_size=0.2, random_state=0, stratify=labels)
    assert len(set(train) & set(test)) == 0 and len(train) + len(test) == 1797
    full = digits["all"]
    # train / test are the contract's indices in ascending order
    assert torch.equal(digits["train"].data, full.data[np.sort(train)])
    assert torch.equal(digits["test"].data, full.data[np.sort(test)])
    assert torch.equal(digits["test"].labels, torch.from_numpy(labels[np.sort(test)]).long())
    assert torch.equal(full.labels, torch.from_numpy(labels).long())
    # stratified: every digit has 35..37 test images
    counts = torch.bincount(digits["test"].labels, minlength=10)
    assert int(counts.min()) >= 35 and int(counts.max()) <= 37


def test_digits_native_size_is_the_sklearn_pixels():
    from sklearn.datasets import load_digits

    small = Digits(size=8).load("all")
    assert small.data.shape == (1797, 1, 8, 8)
    expected = np.rint(load_digits().images * 255 / 16).astype(np.uint8)
    assert np.array_equal(small.data[:, 0].numpy(), expected)
    assert Digits(size=64).load("test").data.shape == (360, 1, 64, 64)


# --------------------------------------------------------------------------- ring / grid


def test_ring_modes_and_samples():
    samples = Ring(n=20_000, seed=3).load("train")
    assert samples.kind == "points" and samples.data.shape == (20_000, 2) and samples.data.dtype == torch.float32
    assert samples.modes.shape == (8, 2) and samples.modes.dtype == torch.float32 and samples.num_classes == 8
    assert samples.mode_std == pytest.approx(0.01)
    assert torch.allclose(samples.modes.norm(dim=1), torch.ones(8), atol=1e-6)
    angles = torch.atan2(samples.modes[:, 1], samples.modes[:, 0]) % (2 * math.pi)
    assert torch.allclose(angles.sort().values, torch.arange(8) * (math.pi / 4), atol=1e-5)
    _check_near_modes(samples)


def test_grid_modes_and_samples():
    samples = Grid(n=20_000).load("test")
    assert samples.modes.shape == (25, 2) and samples.num_classes == 25 and samples.mode_std == pytest.approx(0.05)
    values = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    expected = {(float(x), float(y)) for x in values for y in values}
    assert {tuple(m.tolist()) for m in samples.modes} == expected
    _check_near_modes(samples)


def _check_near_modes(samples: Samples) -> None:
    distance = torch.cdist(samples.data, samples.modes)
    assert torch.equal(distance.argmin(dim=1), samples.labels)
    own = distance.gather(1, samples.labels[:, None]).squeeze(1)
    assert float((own < 4 * samples.mode_std).float().mean()) >= 0.999
    counts = torch.bincount(samples.labels, minlength=len(samples.modes)).float()
    assert float(counts.min()) > 0.8 * float(counts.mean())  # modes picked uniformly


def test_mixture_determinism_and_splits():
    a = Ring(n=500, seed=7).load("train")
    b = Ring(n=500, seed=7).load("train")
    assert torch.equal(a.data, b.data) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.data, Ring(n=500, seed=8).load("train").data)
    test = Ring(n=500, seed=7).load("test")
    assert not torch.equal(a.data, test.data)
    assert torch.equal(test.data, Ring(n=500, seed=8).load("train").data)  # test uses seed + 1
    both = Grid(n=300).load("all")
    assert len(both) == 600 and torch.equal(both.data[:300], Grid(n=300).load("train").data)
    assert a.info["name"] == "ring" and a.info["split"] == "train" and "size" in a.info


# --------------------------------------------------------------------------- mnist / fashion-mnist / cifar10 (fakes)


def _idx_gz(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _fake_mnist(folder: Path, monkeypatch, name: str = "mnist") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.array([0, 1, 2, 3, 4, 9], dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.array([5, 6, 7], dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for filename, array in arrays.items():
        _idx_gz(folder / filename, array)
    files = {filename: _md5(folder / filename) for filename in arrays}
    monkeypatch.setitem(fetch.SOURCES[name], "files", files)
    return arrays


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_mnist_parsing(tmp_path, monkeypatch, cls):
    arrays = _fake_mnist(tmp_path, monkeypatch, cls.name)
    native = cls(size=28, root=str(tmp_path)).load("train")
    assert native.data.shape == (6, 1, 28, 28) and native.data.dtype == torch.uint8
    assert np.array_equal(native.data[:, 0].numpy(), arrays["train-images-idx3-ubyte.gz"])
    assert native.labels.tolist() == [0, 1, 2, 3, 4, 9] and native.labels.dtype == torch.int64
    test = cls(root=str(tmp_path)).load("test")
    assert test.data.shape == (3, 1, 32, 32) and test.labels.tolist() == [5, 6, 7] and test.num_classes == 10
    both = cls(size=64, root=str(tmp_path)).load("all")
    assert both.data.shape == (9, 1, 64, 64) and both.labels.tolist() == [0, 1, 2, 3, 4, 9, 5, 6, 7]
    assert test.info["name"] == cls.name and test.info["split"] == "test" and test.info["size"] == 32


def test_mnist_offline_error_names_files_and_folder(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(GanzooError) as caught:
        MNIST(root=str(folder)).load("train")
    message = str(caught.value)
    assert "\n" not in message
    assert str(folder) in message
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in message
    assert not isinstance(caught.value, UsageError)


def test_cifar_offline_error_and_default_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_DATA", str(tmp_path / "cache"))
    assert CIFAR10().folder() == tmp_path / "cache" / "cifar10"
    with pytest.raises(GanzooError, match="cifar-10-binary.tar.gz") as caught:
        CIFAR10().load("test")
    assert str(tmp_path / "cache" / "cifar10") in str(caught.value)
    assert "https://www.cs.toronto.edu/~kriz/" in str(caught.value)
    monkeypatch.delenv("GANZOO_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert fetch.data_folder("mnist") == tmp_path / "home" / ".cache" / "ganzoo" / "data" / "mnist"


def test_download_with_bad_checksum_is_deleted_and_reported(tmp_path, monkeypatch):
    arrays = _fake_mnist(tmp_path / "good", monkeypatch)
    folder = tmp_path / "fresh"

    def corrupt(url, path):
        path.write_bytes(b"garbage")

    monkeypatch.setattr(fetch, "_download", corrupt)
    with pytest.raises(GanzooError, match="md5") as caught:
        MNIST(root=str(folder)).load("train")
    assert str(folder) in str(caught.value) and "\n" not in str(caught.value)
    assert not any(folder.iterdir())  # the corrupt download was deleted

    def good(url, path):
        name = url.rsplit("/", 1)[1]
        path.write_bytes((tmp_path / "good" / name).read_bytes())

    monkeypatch.setattr(fetch, "_download", good)
    samples = MNIST(size=28, root=str(folder)).load("test")
    assert np.array_equal(samples.data[:, 0].numpy(), arrays["t10k-images-idx3-ubyte.gz"])


def test_download_is_atomic_with_a_local_url(tmp_path, capsys):
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 100)
    target_dir = tmp_path / "cache"
    target_dir.mkdir()
    REAL_DOWNLOAD(source.as_uri(), target_dir / "copy.bin")  # file:// URL: no network
    assert (target_dir / "copy.bin").read_bytes() == source.read_bytes()
    assert [p.name for p in target_dir.iterdir()] == ["copy.bin"]  # no temp file left
    with pytest.raises(urllib.error.URLError):
        REAL_DOWNLOAD((tmp_path / "absent.bin").as_uri(), target_dir / "absent.bin")
    assert [p.name for p in target_dir.iterdir()] == ["copy.bin"]
    assert "copy.bin" in capsys.readouterr().err  # the progress bar went to stderr


def test_corrupt_cached_file_is_deleted_and_fetched_again(tmp_path, monkeypatch, capsys):
    _fake_mnist(tmp_path, monkeypatch)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"truncated")
    with pytest.raises(GanzooError, match="t10k-labels-idx1-ubyte.gz"):
        MNIST(root=str(tmp_path)).load("train")  # offline: reported as missing after deletion
    assert not (tmp_path / "t10k-labels-idx1-ubyte.gz").exists()
    assert "corrupt" in capsys.readouterr().err


def test_malformed_idx_with_matching_checksum_is_a_clear_error(tmp_path, monkeypatch):
    _fake_mnist(tmp_path, monkeypatch)
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(gzip.compress(bytes([0, 0, 0x08, 1]) + np.array([5], dtype=">u4").tobytes() + b"\x01\x02"))
    monkeypatch.setitem(fetch.SOURCES["mnist"]["files"], bad.name, _md5(bad))
    with pytest.raises(GanzooError, match="train-labels-idx1-ubyte.gz"):
        MNIST(root=str(tmp_path)).load("train")


def _fake_cifar(folder: Path, monkeypatch) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    batches = {}
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "cifar-10-binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for index, name in enumerate([f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]):
            labels = np.array([index % 10, (index + 3) % 10], dtype=np.uint8)
            images = rng.integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
            raw = np.concatenate([labels[:, None], images.reshape(2, -1)], axis=1).tobytes()
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            member.size = len(raw)
            tar.addfile(member, io.BytesIO(raw))
            batches[name] = (images, labels)
    monkeypatch.setitem(fetch.SOURCES["cifar10"], "files", {archive.name: _md5(archive)})
    return batches


def test_cifar_parsing(tmp_path, monkeypatch):
    batches = _fake_cifar(tmp_path, monkeypatch)
    train = CIFAR10(root=str(tmp_path)).load("train")
    assert train.data.shape == (10, 3, 32, 32) and train.data.dtype == torch.uint8 and train.num_classes == 10
    expected = np.concatenate([batches[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    assert np.array_equal(train.data.numpy(), expected)
    assert train.labels.dtype == torch.int64 and train.labels[:2].tolist() == [0, 3]
    test = CIFAR10(size=64, root=str(tmp_path)).load("test")
    assert test.data.shape == (2, 3, 64, 64) and test.labels.tolist() == [5, 8]
    assert len(CIFAR10(size=16, root=str(tmp_path)).load("all")) == 12
    assert test.info["name"] == "cifar10" and test.info["size"] == 64


def test_cifar_corrupt_archive(tmp_path, monkeypatch):
    archive = tmp_path / "cifar-10-binary.tar.gz"
    archive.write_bytes(b"not a tarball")
    monkeypatch.setitem(fetch.SOURCES["cifar10"], "files", {archive.name: _md5(archive)})
    with pytest.raises(GanzooError, match="cifar-10-binary.tar.gz"):
        CIFAR10(root=str(tmp_path)).load("train")


def test_cifar_md5_is_the_binary_archive():
    assert fetch.SOURCES["cifar10"]["files"] == {"cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530"}


# --------------------------------------------------------------------------- folder


def _stripes(path: Path, width: int = 60, height: int = 20) -> None:
    """Red | green | blue vertical thirds: the centre crop of the wide image is pure green."""
    image = Image.new("RGB", (width, height), (0, 255, 0))
    image.paste((255, 0, 0), (0, 0, width // 3, height))
    image.paste((0, 0, 255), (2 * width // 3, 0, width, height))
    image.save(path)


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "images"
    (folder / "nested").mkdir(parents=True)
    _stripes(folder / "a.png")
    Image.new("RGB", (30, 30), (10, 20, 30)).save(folder / "b.JPG", quality=100)
    Image.new("L", (12, 18), 200).save(folder / "nested" / "c.bmp")
    Image.new("RGBA", (25, 25), (0, 0, 255, 128)).save(folder / "nested" / "d.webp")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_folder_loads_rgb_and_centre_crops(image_folder):
    samples = Folder(str(image_folder), size=20).load("train")
    assert samples.kind == "image" and samples.labels is None
    assert samples.data.shape == (4, 3, 20, 20) and samples.data.dtype == torch.uint8
    stripes = samples.data[0]  # sorted order: a.png, b.JPG, nested/c.bmp, nested/d.webp
    assert stripes[0].max() == 0 and stripes[1].min() == 255 and stripes[2].max() == 0
    assert samples.data[2].min() == samples.data[2].max() == 200  # grayscale file as RGB
    assert samples.info["name"] == "folder" and samples.info["size"] == 20 and samples.info["split"] == "train"


def test_folder_grayscale_and_resize(image_folder):
    samples = Folder(str(image_folder), size=8, channels=1).load("all")
    assert samples.data.shape == (4, 1, 8, 8)
    green = 0.587 * 255
    assert abs(float(samples.data[0].float().mean()) - green) < 2
    assert "split_note" not in samples.info


def test_folder_test_split_note(image_folder):
    samples = Folder(str(image_folder), size=16).load("test")
    assert len(samples) == 4
    assert samples.info["split_note"] == "folder has no test split; using all images"


def test_folder_errors(tmp_path):
    with pytest.raises(GanzooError, match="does not exist"):
        Folder(str(tmp_path / "missing")).load()
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(GanzooError, match="not a folder"):
        Folder(str(tmp_path / "file.png")).load()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("hi")
    with pytest.raises(GanzooError, match=r"holds no images \(.png, .jpg") as caught:
        Folder(str(empty)).load()
    assert str(empty) in str(caught.value) and "\n" not in str(caught.value)


def test_folder_corrupt_image_and_skip_bad(image_folder):
    (image_folder / "broken.png").write_bytes(b"this is not a png")
    with pytest.raises(GanzooError, match="broken.png") as caught:
        Folder(str(image_folder), size=16).load()
    assert "skip_bad" in str(caught.value) and "\n" not in str(caught.value)
    samples = Folder(str(image_folder), size=16, skip_bad=True).load()
    assert len(samples) == 4
    assert samples.info["skipped"] == [str(image_folder / "broken.png")]


# --------------------------------------------------------------------------- hf


def _fake_datasets_module() -> types.ModuleType:
    module = types.ModuleType("datasets")

    class FakeImage:  # stands for datasets.Image
        pass

    class FakeClassLabel:
        def __init__(self, num_classes):
            self.num_classes = num_classes

    class FakeSplit:
        def __init__(self, rows, features):
            self.rows, self.features = rows, features

        def __len__(self):
            return len(self.rows)

        def __iter__(self):
            return iter(self.rows)

    def rows(count, offset):
        return [
            {"text": f"t{i}", "img": Image.new("RGB", (40, 20), (i * 10, 0, 0)), "label": (i + offset) % 4}
            for i in range(count)
        ]

    features = {"text": object(), "img": FakeImage(), "label": FakeClassLabel(4)}
    module.Image = FakeImage
    module.ClassLabel = FakeClassLabel
    module.calls = []

    def load_dataset(repo, *args, **kwargs):
        module.calls.append(repo)
        return {"train": FakeSplit(rows(5, 0), features), "test": FakeSplit(rows(2, 1), features)}

    module.load_dataset = load_dataset
    return module


def test_hf_with_fake_library(monkeypatch):
    fake = _fake_datasets_module()
    monkeypatch.setitem(sys.modules, "datasets", fake)
    train = HF("owner/faces", size=16).load("train")
    assert fake.calls == ["owner/faces"]
    assert train.data.shape == (5, 3, 16, 16) and train.data.dtype == torch.uint8
    assert train.labels.tolist() == [0, 1, 2, 3, 0] and train.num_classes == 4
    assert train.info["name"] == "hf" and train.info["split"] == "train" and train.info["size"] == 16
    test = HF("owner/faces", size=8, channels=1).load("test")
    assert test.data.shape == (2, 1, 8, 8) and test.labels.tolist() == [1, 2]
    assert len(HF("owner/faces", size=8).load("all")) == 7
    with pytest.raises(UsageError, match="nope"):
        HF("owner/faces", image_column="nope").load()
    with pytest.raises(UsageError, match="validation"):
        HF("owner/faces", split_name="validation").load()


def test_hf_load_failure_is_one_line(monkeypatch):
    fake = _fake_datasets_module()

    def fail(repo, *args, **kwargs):
        raise ConnectionError("offline\nsecond line")

    fake.load_dataset = fail
    monkeypatch.setitem(sys.modules, "datasets", fake)
    with pytest.raises(GanzooError, match="owner/faces") as caught:
        HF("owner/faces").load()
    assert "\n" not in str(caught.value)


def test_hf_missing_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(GanzooError, match=r"pip install 'ganzoo\[hf\]'"):
        HF("owner/faces").load()


def test_hf_with_real_library(monkeypatch):
    datasets = pytest.importorskip("datasets")

    def build(count):
        images = [Image.new("RGB", (24, 12), (0, 200, 0)) for _ in range(count)]
        features = datasets.Features({"image": datasets.Image(), "labels": datasets.ClassLabel(num_classes=3)})
        mapping = {"image": images, "labels": [i % 3 for i in range(count)]}
        try:
            return datasets.Dataset.from_dict(mapping, features=features)
        except Exception:  # some datasets / pyarrow / dill mixes cannot fingerprint; give one by hand
            import pyarrow
            from datasets.table import InMemoryTable

            table = InMemoryTable(
                pyarrow.Table.from_pydict(features.encode_batch(mapping), schema=features.arrow_schema)
            )
            return datasets.Dataset(table, info=datasets.DatasetInfo(features=features), fingerprint="ganzoo-test")

    built = datasets.DatasetDict({"train": build(4)})

    def load_dataset(repo, *args, **kwargs):
        return built

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    train = HF("owner/toy", size=12).load("train")
    assert train.data.shape == (4, 3, 12, 12) and train.labels.tolist() == [0, 1, 2, 0] and train.num_classes == 3
    test = HF("owner/toy", size=12).load("test")
    assert "split_note" in test.info and len(test) == 4


def test_plugin_module_exports():
    assert ganzoo_datasets.SPLITS == ("train", "test", "all")
