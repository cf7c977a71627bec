"""Tests of the digits-cnn feature extractor: shipped weights, accuracy on the held-out split, protocol."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ganzoo.data import to_model_range
from ganzoo_metrics import DigitsCNN
from ganzoo_metrics.digits_cnn import WEIGHTS, digits_images, load_split


@pytest.fixture(scope="module")
def extractor() -> DigitsCNN:
    return DigitsCNN()


@pytest.fixture(scope="module")
def test_split() -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out split, built here from scikit-learn exactly as the digits data set does."""
    digits = load_digits()
    _, test_idx = train_test_split(np.arange(1797), test_size=0.2, random_state=0, stratify=digits.target)
    test_idx = np.sort(test_idx)
    return digits_images(digits.images[test_idx]), torch.as_tensor(digits.target[test_idx])


def test_split_sizes_and_conversion(test_split):
    images, labels = test_split
    assert images.shape == (360, 1, 32, 32) and images.dtype == torch.uint8
    assert labels.shape == (360,) and set(labels.tolist()) == set(range(10))
    assert int(images.max()) == 255 and int(images.min()) == 0
    train_images, train_labels = load_split("train")
    assert train_images.shape == (1437, 1, 32, 32) and train_labels.shape == (1437,)
    same_images, same_labels = load_split("test")
    assert torch.equal(same_images, images) and torch.equal(same_labels, labels)


def test_shipped_weights_reach_97_percent_on_the_held_out_split(extractor, test_split):
    images, labels = test_split
    with torch.inference_mode():
        predictions = extractor.logits(to_model_range(images)).argmax(dim=1)
    accuracy = float((predictions == labels).float().mean())
    assert accuracy >= 0.97, accuracy


def test_protocol_records_the_weights_sha256(extractor):
    protocol = extractor.protocol()
    assert protocol["name"] == "digits-cnn"
    assert protocol["input_size"] == 32
    assert protocol["sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    assert WEIGHTS.stat().st_size < 1_000_000


def test_features_shape_and_other_inputs(extractor, test_split):
    images = to_model_range(test_split[0][:16])
    with torch.inference_mode():
        feats = extractor.features(images)
        assert feats.shape == (16, 128) and feats.dtype == torch.float32
        assert extractor.logits(images).shape == (16, 10)
        # three channels are averaged, other sizes resized to 32
        rgb = extractor.features(images.expand(-1, 3, -1, -1))
        torch.testing.assert_close(rgb, feats)
        big = torch.nn.functional.interpolate(images, size=(64, 64), mode="bilinear", align_corners=False)
        assert extractor.features(big).shape == (16, 128)


def test_weights_load_without_pickle(tmp_path):
    from ganzoo.errors import GanzooError
    from ganzoo_metrics.digits_cnn import load_model

    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(WEIGHTS.read_bytes()[:1000])
    with pytest.raises(GanzooError, match="corrupt"):
        load_model(broken)
    with pytest.raises(GanzooError, match="missing"):
        load_model(tmp_path / "absent.safetensors")


def test_same_images_as_the_digits_data_set():
    """The conversion here and in the ``digits`` data-set plugin agree pixel for pixel (when it is installed)."""
    from ganzoo.plugins import registry

    if ("dataset", "digits") not in registry():
        pytest.skip("the digits data set is not registered")
    for split in ("train", "test"):
        samples = registry().get("dataset", "digits").obj().load(split)
        images, labels = load_split(split)
        assert torch.equal(samples.data, images) and torch.equal(samples.labels, labels)
