"""The real-vs-real floor of mnist-5k on mnist-cnn: FID, KID and precision/recall between disjoint real splits.

A generator can be no closer to the test split than other real digits are. The 1,000 test digits are
scored against each of the four disjoint 1,000-digit quarters of the train split (each quarter stratified:
100 per class, taken in the split's order), with the metrics ``ganzoo eval`` uses; the same figures for
two disjoint 500-digit halves of the test split show how the floor grows as samples shrink.

    python benchmarks/mnist_floor.py
"""

from __future__ import annotations

import statistics

import numpy as np
import torch

from ganzoo.data import to_model_range
from ganzoo.metrics.distances import feature_statistics, frechet_distance, kid, prdc
from ganzoo.plugins import registry


def features(extractor, images: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([extractor.features(to_model_range(chunk)) for chunk in images.split(500)])


def class_quarters(labels: torch.Tensor, parts: int) -> list[np.ndarray]:
    """``parts`` disjoint index sets, each holding an equal share of every class in the split's order."""
    chosen: list[list[int]] = [[] for _ in range(parts)]
    for c in range(10):
        rows = torch.nonzero(labels == c).flatten().tolist()
        share = len(rows) // parts
        for p in range(parts):
            chosen[p].extend(rows[p * share : (p + 1) * share])
    return [np.sort(np.array(rows)) for rows in chosen]


def scores(a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    fid = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    kid_mean, _ = kid(a, b, subsets=100, subset_size=1000, seed=0)
    pr = prdc(a, b, k=5)
    return {"fid": fid, "kid": kid_mean, "precision": pr["precision"], "recall": pr["recall"]}


def main() -> None:
    torch.set_num_threads(1)
    dataset = registry().get("dataset", "mnist-5k").obj()
    extractor = registry().get("features", "mnist-cnn").obj()
    train, test = dataset.load("train"), dataset.load("test")
    test_f = features(extractor, test.data)
    rows = []
    for i, idx in enumerate(class_quarters(train.labels, 4)):
        row = scores(features(extractor, train.data[idx]), test_f)
        rows.append(row)
        print(f"test (1000) vs train quarter {i} ({len(idx)}): " + "  ".join(f"{k} {v:.4f}" for k, v in row.items()))
    mean = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
    print("floor, 1000 vs 1000 (mean of 4):    " + "  ".join(f"{k} {v:.4f}" for k, v in mean.items()))
    half_a, half_b = class_quarters(test.labels, 2)
    row = scores(test_f[half_a], test_f[half_b])
    print("test half vs test half (500 vs 500): " + "  ".join(f"{k} {v:.4f}" for k, v in row.items()))


if __name__ == "__main__":
    main()
