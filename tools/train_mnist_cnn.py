"""Train the mnist-cnn feature extractor and write plugins/ganzoo_metrics/mnist_cnn.safetensors.

Deterministic (fixed seed, CPU, one thread): the 4,000-image train split of ``mnist-5k`` at
32x32 (the test split is never seen), light augmentation (random shifts of up to 2 pixels),
Adam with a cosine learning-rate decay. Prints the test-split accuracy and the file's sha256,
the two figures ``ganzoo_metrics/mnist_cnn.py`` records.

    python tools/train_mnist_cnn.py [--out PATH] [--epochs N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import torch
from cnn_recipe import SEED, accuracy, deterministic, fit

from ganzoo.files import write_safetensors
from ganzoo.plugins import registry
from ganzoo_metrics.mnist_cnn import INPUT_SIZE, WEIGHTS, new_model


def load_split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """mnist-5k's ``split`` at the network's input size: uint8 images ``[N, 1, 32, 32]`` and int64 labels."""
    samples = registry().get("dataset", "mnist-5k").obj(size=INPUT_SIZE).load(split)
    return samples.data, samples.labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()

    start = time.perf_counter()
    generator = deterministic()
    train_u8, train_y = load_split("train")
    test_x, test_y = load_split("test")
    model = new_model()
    fit(model, train_u8, train_y, generator, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, report_every=5)
    train_acc = accuracy(model, train_u8, train_y)
    test_acc = accuracy(model, test_x, test_y)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # one metadata key: safetensors writes several in random order, and the file should be byte-reproducible
    training = {
        "data": "mnist-5k train split",
        "seed": SEED,
        "epochs": args.epochs,
        "train_accuracy": round(train_acc, 4),
        "test_accuracy": round(test_acc, 4),
    }
    write_safetensors(args.out, state, {"ganzoo_training": json.dumps(training, sort_keys=True)})
    elapsed = time.perf_counter() - start
    print(f"train accuracy {train_acc:.4f}")
    print(f"test-split accuracy {test_acc:.4f} ({int(round(test_acc * test_y.shape[0]))}/{test_y.shape[0]})")
    print(f"sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
