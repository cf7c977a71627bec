"""Distances between sets of samples or features: FID, KID, PRDC, IS, mode and class coverage.

Pure functions: they take torch tensors or numpy arrays and compute in numpy float64, so
results do not depend on the device or dtype the features came from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "as_float64",
    "feature_statistics",
    "frechet_distance",
    "kid",
    "kid_subset_size",
    "KID_MIN_STD_SUBSET",
    "prdc",
    "inception_score",
    "mode_statistics",
    "class_statistics",
]

_CHUNK = 1024  # rows of a pairwise-distance matrix held at once


def as_float64(x: Any) -> np.ndarray:
    """A torch tensor (any device or dtype) or array-like as a numpy float64 array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if hasattr(x, "double"):
            x = x.double()
        x = x.numpy()
    return np.asarray(x, dtype=np.float64)


def _as_int64(x: Any) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x).astype(np.int64).reshape(-1)


def _features_2d(x: Any, what: str) -> np.ndarray:
    arr = as_float64(x)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be a 2-D [N, D] array, got shape {arr.shape}")
    return arr


def feature_statistics(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` (divided by N - 1) of ``[N, D]`` features, float64."""
    feats = _features_2d(features, "features")
    if feats.shape[0] < 2:
        raise ValueError(f"feature statistics need at least 2 samples, got {feats.shape[0]}")
    mu = feats.mean(axis=0)
    centred = feats - mu
    sigma = centred.T @ centred / (feats.shape[0] - 1)
    return mu, sigma


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (tiny negative eigenvalues -> 0)."""
    sym = (matrix + matrix.T) / 2.0
    values, vectors = np.linalg.eigh(sym)
    roots = np.sqrt(np.clip(values, 0.0, None))
    return (vectors * roots) @ vectors.T


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017).

    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``. The last trace
    equals ``tr((S sigma2 S)^(1/2))`` with ``S = sigma1^(1/2)``; ``S sigma2 S`` is symmetric
    positive semi-definite, so its eigenvalues come from a stable ``eigh`` and the trace is
    the sum of their square roots. Everything is float64.
    """
    m1, m2 = as_float64(mu1).reshape(-1), as_float64(mu2).reshape(-1)
    s1, s2 = as_float64(sigma1), as_float64(sigma2)
    if s1.ndim == 0:
        s1 = s1.reshape(1, 1)
    if s2.ndim == 0:
        s2 = s2.reshape(1, 1)
    d = m1.shape[0]
    if m2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"mismatched statistics: mu {m1.shape} / {m2.shape}, sigma {s1.shape} / {s2.shape}")
    root1 = _psd_sqrt(s1)
    middle = root1 @ ((s2 + s2.T) / 2.0) @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    diff = m1 - m2
    value = float(diff @ diff) + float(np.trace(s1)) + float(np.trace(s2)) - 2.0 * trace_sqrt
    return max(value, 0.0)  # mathematically >= 0; rounding can leave a tiny negative


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(x.y / d + 1)^3`` for every pair of rows (cubed by multiplication: much faster than ``**``)."""
    base = x @ y.T
    base /= x.shape[1]
    base += 1.0
    return base * base * base


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    m = x.shape[0]
    kxx = _polynomial_kernel(x, x)
    kyy = _polynomial_kernel(y, y)
    kxy = _polynomial_kernel(x, y)
    off_xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    off_yy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(off_xx + off_yy - 2.0 * kxy.mean())


KID_MIN_STD_SUBSET = 50  # subsets smaller than this give a mean but no standard deviation


def kid_subset_size(n_real: int, n_fake: int, subset_size: int = 1000) -> int:
    """The subset size KID uses: ``min(subset_size, n // 2)`` with ``n`` the smaller set, and at least 2.

    Halving keeps subsets smaller than the sets they are drawn from, so that they differ and
    their spread means something; with ``subset_size >= n`` every subset would be the whole
    set and the standard deviation would be rounding noise.
    """
    n = min(int(n_real), int(n_fake))
    if n < 2:
        raise ValueError(f"KID needs at least 2 samples in each set, got {n_real} and {n_fake}")
    if int(subset_size) < 2:
        raise ValueError(f"KID needs a subset size of at least 2, got {subset_size}")
    return min(int(subset_size), max(n // 2, 2))


def kid(
    real_feats: Any,
    fake_feats: Any,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    min_std_subset: int = KID_MIN_STD_SUBSET,
) -> tuple[float, float | None]:
    """Kernel Inception Distance (Binkowski et al. 2018): mean and standard deviation over subsets.

    Each of ``subsets`` rounds draws ``m`` real and ``m`` generated features without replacement
    (``m = kid_subset_size(len(real), len(fake), subset_size)``, at most half the smaller set)
    and computes the unbiased estimate of the squared MMD with the cubic polynomial kernel
    ``k(x, y) = (x.y / d + 1)^3``. Being unbiased, the estimate can be slightly negative when
    the two sets come from one distribution, and its expectation does not depend on ``m``.
    The standard deviation is the population one (``ddof=0``) of the per-subset estimates: the
    spread of a KID measured on ``m`` samples. It is ``None`` when ``m < min_std_subset`` or
    there is only one subset.
    """
    real = _features_2d(real_feats, "real features")
    fake = _features_2d(fake_feats, "generated features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: {real.shape[1]} real vs {fake.shape[1]} generated")
    m = kid_subset_size(real.shape[0], fake.shape[0], subset_size)
    if subsets < 1:
        raise ValueError(f"KID needs at least one subset, got {subsets}")
    rng = np.random.default_rng(seed)
    estimates = np.empty(int(subsets), dtype=np.float64)
    for i in range(int(subsets)):
        x = real[rng.choice(real.shape[0], m, replace=False)]
        y = fake[rng.choice(fake.shape[0], m, replace=False)]
        estimates[i] = _mmd2_unbiased(x, y)
    std = float(estimates.std()) if m >= min_std_subset and subsets > 1 else None
    return float(estimates.mean()), std


def _pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.clip(squared, 0.0, None))


def _kth_neighbour_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of ``x`` to its k-th nearest other row."""
    if x.shape[0] <= k:
        raise ValueError(f"k-nearest-neighbour radii need more than k={k} samples, got {x.shape[0]}")
    radii = np.empty(x.shape[0], dtype=np.float64)
    for start in range(0, x.shape[0], _CHUNK):
        block = _pairwise_distances(x[start : start + _CHUNK], x)
        # index 0 of each sorted row is the point itself (distance 0), so index k is the k-th neighbour
        radii[start : start + _CHUNK] = np.partition(block, k, axis=1)[:, k]
    return radii


def prdc(real_feats: Any, fake_feats: Any, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage (Naeem et al. 2020) of generated against real features.

    With ``B(x, r)`` the closed ball around ``x`` whose radius ``r`` is the distance to its
    k-th nearest neighbour within its own set:

    - precision: share of generated samples inside at least one real ball;
    - recall: share of real samples inside at least one generated ball;
    - density: number of real balls holding each generated sample, averaged and divided by k
      (about 1 when the sets match; above 1 is possible);
    - coverage: share of real samples whose own ball holds at least one generated sample.
    """
    real = _features_2d(real_feats, "real features")
    fake = _features_2d(fake_feats, "generated features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature sizes differ: {real.shape[1]} real vs {fake.shape[1]} generated")
    real_radii = _kth_neighbour_radii(real, k)
    fake_radii = _kth_neighbour_radii(fake, k)
    fake_in_real_ball = np.zeros(fake.shape[0], dtype=bool)
    real_ball_counts = np.zeros(fake.shape[0], dtype=np.int64)
    real_in_fake_ball = np.zeros(real.shape[0], dtype=bool)
    real_covered = np.zeros(real.shape[0], dtype=bool)
    for start in range(0, real.shape[0], _CHUNK):
        dist = _pairwise_distances(real[start : start + _CHUNK], fake)  # [chunk, M]
        inside_real = dist <= real_radii[start : start + _CHUNK, None]
        fake_in_real_ball |= inside_real.any(axis=0)
        real_ball_counts += inside_real.sum(axis=0)
        real_in_fake_ball[start : start + _CHUNK] = (dist <= fake_radii[None, :]).any(axis=1)
        real_covered[start : start + _CHUNK] = inside_real.any(axis=1)
    return {
        "precision": float(fake_in_real_ball.mean()),
        "recall": float(real_in_fake_ball.mean()),
        "density": float(real_ball_counts.sum() / (k * fake.shape[0])),
        "coverage": float(real_covered.mean()),
    }


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def inception_score(logits: Any, splits: int = 10) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016) from class logits ``[N, K]``: mean and std over splits.

    Per split, ``exp(mean_x KL(p(y|x) || p(y)))`` with ``p(y)`` the split's mean prediction; it is
    1 when every prediction is the same and K when predictions are confident and spread evenly.
    The samples are cut into ``splits`` consecutive, nearly equal parts; the standard deviation
    is the population one (``ddof=0``).
    """
    arr = _features_2d(logits, "logits")
    if splits < 1 or arr.shape[0] < splits:
        raise ValueError(f"inception score needs at least {max(splits, 1)} samples for {splits} splits")
    log_p = _log_softmax(arr)
    scores = []
    for part in np.array_split(log_p, splits):
        p = np.exp(part)
        log_marginal = np.log(p.mean(axis=0))
        # 0 * log 0 counts as 0: exp(log_p) underflows to exactly 0 where log_p is very negative
        kl = (p * (part - log_marginal[None, :])).sum(axis=1)
        scores.append(math.exp(float(kl.mean())))
    values = np.asarray(scores)
    return float(values.mean()), float(values.std())


def mode_statistics(points: Any, modes: Any, std: float, threshold: float = 3.0) -> dict[str, float]:
    """Mode coverage of 2-D samples from a Gaussian mixture, as in VEEGAN (Srivastava et al. 2017) and PacGAN.

    Each sample is assigned to its nearest mode; it is *high quality* when it lies within
    ``threshold * std`` of that mode.

    - ``modes``: how many modes are nearest to at least one high-quality sample;
    - ``hq``: percentage (0..100) of samples that are high quality;
    - ``rkl``: KL divergence of the generated mode histogram ``q`` (counts of high-quality
      samples per mode, normalised to sum to 1) from the uniform distribution over the ``M``
      modes, ``sum_{i: q_i > 0} q_i log(q_i / (1/M))`` in nats. It is 0 when every mode gets the
      same share and ``log M`` when all high-quality samples sit at one mode. With no
      high-quality sample at all, ``q`` is undefined and ``rkl`` is ``inf`` (worse than any
      generator that hits a mode).
    """
    pts = _features_2d(points, "points")
    centres = _features_2d(modes, "modes")
    if pts.shape[1] != centres.shape[1]:
        raise ValueError(f"points have {pts.shape[1]} coordinates but modes have {centres.shape[1]}")
    num_modes = centres.shape[0]
    if pts.shape[0] == 0:
        return {"modes": 0.0, "hq": 0.0, "rkl": math.inf}
    dist = _pairwise_distances(pts, centres)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(pts.shape[0]), nearest] <= threshold * float(std)
    counts = np.bincount(nearest[good], minlength=num_modes).astype(np.float64)
    total = counts.sum()
    if total == 0:
        rkl = math.inf
    else:
        q = counts[counts > 0] / total
        rkl = max(float((q * np.log(q * num_modes)).sum()), 0.0)
    return {"modes": float((counts > 0).sum()), "hq": float(100.0 * good.mean()), "rkl": rkl}


def class_statistics(pred_labels: Any, data_labels: Any, num_classes: int, eps: float = 1e-10) -> dict[str, float]:
    """Class coverage of generated samples, from a classifier's predicted labels.

    - ``classes``: how many of the ``num_classes`` classes at least one generated sample is
      predicted to belong to;
    - ``kl``: ``KL(p_gen || p_data) = sum_{i: p_gen_i > 0} p_gen_i log(p_gen_i / p_data_i)`` in
      nats, with ``p_gen`` the histogram of predicted labels and ``p_data`` the histogram of the
      data's labels. To keep it finite when the generator produces a class the data lacks,
      ``p_data`` is smoothed first: ``p_data_i = (count_i / N + eps) / (1 + num_classes * eps)``
      with ``eps = 1e-10``; the result is 0 for identical histograms.
    """
    pred = _as_int64(pred_labels)
    data = _as_int64(data_labels)
    if pred.size == 0 or data.size == 0:
        raise ValueError("class statistics need at least one predicted and one data label")
    for labels, what in ((pred, "predicted"), (data, "data")):
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f"{what} labels must lie in 0..{num_classes - 1}")
    p_gen = np.bincount(pred, minlength=num_classes) / pred.size
    p_data = (np.bincount(data, minlength=num_classes) / data.size + eps) / (1.0 + num_classes * eps)
    present = p_gen > 0
    kl = float((p_gen[present] * np.log(p_gen[present] / p_data[present])).sum())
    return {"classes": float(present.sum()), "kl": max(kl, 0.0)}
