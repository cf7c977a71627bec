"""Tests of the pure distance functions in ganzoo.metrics.distances against references and hand-made sets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from ganzoo.metrics.distances import (
    class_statistics,
    feature_statistics,
    frechet_distance,
    inception_score,
    kid,
    kid_subset_size,
    mode_statistics,
    prdc,
)


def _random_statistics(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
    a = rng.normal(size=(d, 2 * d))
    return rng.normal(size=d), a @ a.T / (2 * d) + 1e-3 * np.eye(d)


def _scipy_frechet(mu1, sigma1, mu2, sigma2) -> float:
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(np.real(covmean)))


@pytest.mark.parametrize("d", [1, 8, 64])
def test_frechet_distance_matches_scipy_sqrtm(d):
    rng = np.random.default_rng(d)
    for _ in range(3):
        mu1, sigma1 = _random_statistics(rng, d)
        mu2, sigma2 = _random_statistics(rng, d)
        ours = frechet_distance(mu1, sigma1, mu2, sigma2)
        reference = _scipy_frechet(mu1, sigma1, mu2, sigma2)
        assert ours == pytest.approx(reference, rel=1e-6)


def test_frechet_distance_of_a_distribution_with_itself_is_zero():
    rng = np.random.default_rng(0)
    for d in (8, 64):
        mu, sigma = _random_statistics(rng, d)
        assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6
    # rank-deficient covariance (fewer samples than dimensions), from torch features
    feats = torch.randn(20, 64, generator=torch.Generator().manual_seed(0))
    mu, sigma = feature_statistics(feats)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6


def test_frechet_distance_of_shifted_means_is_the_squared_shift():
    sigma = np.diag([1.0, 2.0, 3.0])
    assert frechet_distance(np.zeros(3), sigma, np.array([3.0, 4.0, 0.0]), sigma) == pytest.approx(25.0, rel=1e-9)


def test_feature_statistics_are_unbiased_float64():
    feats = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]], dtype=torch.float32)
    mu, sigma = feature_statistics(feats)
    assert mu.dtype == np.float64 and sigma.shape == (2, 2)
    np.testing.assert_allclose(mu, [2.0, 4.0])
    np.testing.assert_allclose(sigma, np.cov(feats.numpy().astype(np.float64), rowvar=False))


def _expected_cubic_kernel(ab: float, sq_norms: float, d: int) -> float:
    """E[(x.y/d + 1)^3] for independent x ~ N(a, I), y ~ N(b, I): ab = a.b, sq_norms = |a|^2 + |b|^2.

    With Z = x.y - a.b: E Z = 0, E Z^2 = |a|^2 + |b|^2 + d, E Z^3 = 6 a.b.
    """
    m = ab + d
    return (m**3 + 3 * m * (sq_norms + d) + 6 * ab) / d**3


def _analytic_mmd2(delta: float, d: int) -> float:
    """Population MMD^2 between N(0, I) and N(delta e_1, I) under the kernel (x.y/d + 1)^3."""
    kxx = _expected_cubic_kernel(0.0, 0.0, d)
    kyy = _expected_cubic_kernel(delta**2, 2 * delta**2, d)
    kxy = _expected_cubic_kernel(0.0, delta**2, d)
    return kxx + kyy - 2 * kxy


def test_kid_is_unbiased_for_one_distribution():
    rng = np.random.default_rng(0)
    d, m, draws = 8, 50, 300
    estimates = np.array(
        [
            kid(rng.normal(size=(m, d)), rng.normal(size=(m, d)), subsets=1, subset_size=m, seed=i)[0]
            for i in range(draws)
        ]
    )
    standard_error = estimates.std() / math.sqrt(draws)
    assert abs(estimates.mean()) < 3 * standard_error
    assert (estimates < 0).any()  # an unbiased estimate of 0 must go negative sometimes
    # a single evaluation: the mean over subsets is small against its spread
    x, y = rng.normal(size=(400, d)), rng.normal(size=(400, d))
    mean, std = kid(x, y, subsets=50, subset_size=200, seed=0)
    assert abs(mean) < 2 * std


def test_kid_matches_the_analytic_mmd_of_shifted_gaussians():
    rng = np.random.default_rng(1)
    d = 8
    previous = 0.0
    for delta in (0.5, 1.0, 2.0):
        x = rng.normal(size=(2000, d))
        y = rng.normal(size=(2000, d))
        y[:, 0] += delta
        mean, std = kid(x, y, subsets=10, subset_size=1000, seed=0)
        assert mean == pytest.approx(_analytic_mmd2(delta, d), rel=0.15)
        assert mean > previous and std > 0
        previous = mean


def test_kid_clips_subset_size_and_is_seeded():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(20, 4)) + 1
    assert kid(x, y, subsets=5, subset_size=1000, seed=3) == kid(x, y, subsets=5, subset_size=20, seed=3)
    assert kid(torch.tensor(x), torch.tensor(y), subsets=5, seed=3) == kid(x, y, subsets=5, seed=3)


def test_kid_subsets_hold_at_most_half_the_samples():
    assert kid_subset_size(360, 360, 1000) == 180
    assert kid_subset_size(5000, 3000, 1000) == 1000
    assert kid_subset_size(1500, 1500, 1000) == 750
    assert kid_subset_size(400, 300, 100) == 100
    assert kid_subset_size(3, 2, 1000) == 2  # two samples are the least an unbiased estimate needs
    with pytest.raises(ValueError, match="at least 2 samples"):
        kid_subset_size(1, 10, 1000)


def test_kid_std_is_a_real_spread_when_the_sets_are_smaller_than_the_subset_size():
    # 360 samples, as in the digits test split, with the default subset size of 1000
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(360, 16)), rng.normal(size=(360, 16)) + 0.3
    mean, std = kid(x, y, subsets=50, subset_size=1000, seed=0)
    assert mean > 0
    assert std is not None and std > 1e-3 * mean
    # the spread is that of 180-sample subsets: the same as asking for 180 outright
    assert (mean, std) == kid(x, y, subsets=50, subset_size=180, seed=0)


def test_kid_has_no_std_for_tiny_subsets_or_a_single_subset():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(60, 4)), rng.normal(size=(60, 4)) + 1
    mean, std = kid(x, y, subsets=20, seed=0)  # subsets of 30 < 50
    assert std is None and mean > 0
    assert kid(x, y, subsets=20, seed=0, min_std_subset=30)[1] > 0
    big = rng.normal(size=(400, 4))
    assert kid(big, big + 1, subsets=1, seed=0)[1] is None


def test_prdc_on_identical_and_far_apart_sets():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 16))
    same = prdc(real, real.copy(), k=5)
    assert same["precision"] == 1.0 and same["recall"] == 1.0 and same["coverage"] == 1.0
    assert same["density"] >= 1.0
    far = prdc(real, rng.normal(size=(150, 16)) + 100.0, k=5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_half_the_real_modes():
    # generated samples cover one of two well-separated real clusters: precision high, recall/coverage ~1/2
    rng = np.random.default_rng(1)
    real = np.concatenate([rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 50.0])
    fake = rng.normal(size=(400, 2))
    scores = prdc(real, fake, k=5)
    assert scores["precision"] > 0.9
    assert 0.4 < scores["recall"] <= 0.5 and 0.4 < scores["coverage"] <= 0.5


def test_inception_score_bounds():
    k = 10
    assert inception_score(np.zeros((100, k)), splits=10) == pytest.approx((1.0, 0.0), abs=1e-9)
    confident = np.tile(100.0 * np.eye(k), (10, 1))  # each split of 10 rows predicts every class once
    mean, std = inception_score(torch.tensor(confident), splits=10)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)
    one_class = np.tile(100.0 * np.eye(k)[0], (50, 1))
    assert inception_score(one_class, splits=5)[0] == pytest.approx(1.0, abs=1e-9)


RING = np.array([[math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)] for i in range(8)])
SIGMA = 0.01


def test_mode_statistics_all_modes_hit():
    rng = np.random.default_rng(0)
    points = np.repeat(RING, 100, axis=0) + rng.normal(scale=SIGMA / 4, size=(800, 2))
    stats = mode_statistics(torch.tensor(points, dtype=torch.float32), torch.tensor(RING), SIGMA)
    assert stats["modes"] == 8
    assert stats["hq"] == pytest.approx(100.0)
    assert stats["rkl"] == pytest.approx(0.0, abs=1e-12)


def test_mode_statistics_one_mode():
    points = np.repeat(RING[:1], 64, axis=0)
    stats = mode_statistics(points, RING, SIGMA)
    assert stats == {"modes": 1.0, "hq": 100.0, "rkl": pytest.approx(math.log(8))}


def test_mode_statistics_far_from_every_mode():
    points = np.full((50, 2), 5.0)
    stats = mode_statistics(points, RING, SIGMA)
    assert stats["modes"] == 0 and stats["hq"] == 0 and stats["rkl"] == math.inf


def test_mode_statistics_counts_only_high_quality_samples():
    # 3 modes hit well, plus samples between modes that are nearest to others but too far away
    points = np.concatenate([np.repeat(RING[:3], 10, axis=0), (RING[4:] * 0.5)])
    stats = mode_statistics(points, RING, SIGMA, threshold=3.0)
    assert stats["modes"] == 3
    assert stats["hq"] == pytest.approx(100 * 30 / 34)
    assert stats["rkl"] == pytest.approx(math.log(8 / 3))


def test_class_statistics():
    data = np.repeat(np.arange(10), 10)
    assert class_statistics(data, data, 10) == {"classes": 10.0, "kl": pytest.approx(0.0, abs=1e-9)}
    stats = class_statistics(torch.full((30,), 3), torch.tensor(data), 10)
    assert stats["classes"] == 1 and stats["kl"] == pytest.approx(math.log(10), rel=1e-6)
    half = class_statistics(np.array([0, 1] * 20), data, 10)
    assert half["classes"] == 2 and half["kl"] == pytest.approx(math.log(5), rel=1e-6)
    # a class the data lacks: finite thanks to the smoothing, and large
    missing = class_statistics(np.array([9] * 5), np.zeros(20, dtype=int), 10)
    assert missing["classes"] == 1 and 20 < missing["kl"] < math.inf
    with pytest.raises(ValueError):
        class_statistics(np.array([10]), data, 10)
