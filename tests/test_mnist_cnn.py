"""Tests of the mnist-cnn feature extractor: shipped weights and their sha256, test-split accuracy, protocol."""

from __future__ import annotations

import hashlib

import pytest
import torch

from ganzoo.data import to_model_range
from ganzoo.errors import GanzooError
from ganzoo.metrics.evaluate import default_features
from ganzoo_datasets import MNIST5k
from ganzoo_metrics import MnistCNN, mnist_cnn


@pytest.fixture(scope="module")
def extractor() -> MnistCNN:
    return MnistCNN()


@pytest.fixture(scope="module")
def test_split():
    return MNIST5k().load("test")


def test_shipped_weights_match_the_recorded_sha256_and_stay_small():
    assert hashlib.sha256(mnist_cnn.WEIGHTS.read_bytes()).hexdigest() == mnist_cnn.SHA256
    assert mnist_cnn.WEIGHTS.stat().st_size < 1_000_000


def test_accuracy_on_the_test_split_is_the_recorded_one_and_above_97_percent(extractor, test_split):
    with torch.inference_mode():
        predictions = extractor.logits(to_model_range(test_split.data)).argmax(dim=1)
    accuracy = float((predictions == test_split.labels).float().mean())
    assert accuracy >= 0.97
    assert accuracy == pytest.approx(mnist_cnn.TEST_ACCURACY, abs=0.002)


def test_protocol_and_feature_shapes(extractor, test_split):
    protocol = extractor.protocol()
    assert protocol == {"name": "mnist-cnn", "sha256": mnist_cnn.SHA256, "input_size": 32}
    images = to_model_range(test_split.data[:8])
    with torch.inference_mode():
        assert extractor.features(images).shape == (8, 128) and extractor.logits(images).shape == (8, 10)
        native = torch.nn.functional.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False)
        assert extractor.features(native).shape == (8, 128)


def test_mnist_data_sets_default_to_it(test_split):
    assert default_features(test_split, "mnist-5k") == "mnist-cnn"
    assert default_features(test_split, "mnist") == "mnist-cnn"


def test_weights_that_differ_from_the_shipped_ones_are_refused(tmp_path):
    changed = tmp_path / "mnist_cnn.safetensors"
    raw = bytearray(mnist_cnn.WEIGHTS.read_bytes())
    raw[-1] ^= 0x01
    changed.write_bytes(bytes(raw))
    with pytest.raises(GanzooError, match="sha256 differs.*tools/train_mnist_cnn.py"):
        mnist_cnn.load_model(changed)
    with pytest.raises(GanzooError, match="missing"):
        mnist_cnn.load_model(tmp_path / "absent.safetensors")
