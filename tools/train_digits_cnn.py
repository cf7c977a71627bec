"""Train the digits-cnn feature extractor and write plugins/ganzoo_metrics/digits_cnn.safetensors.

Deterministic (fixed seed, CPU, one thread), about half a minute: the 1437-image train split
of scikit-learn's digits resized to 32x32, light augmentation (random shifts of up to 2
pixels), Adam with a cosine learning-rate decay. Prints the held-out test accuracy.

    python tools/train_digits_cnn.py [--out PATH] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cnn_recipe import SEED, accuracy, deterministic, fit

from ganzoo.files import write_safetensors
from ganzoo_metrics.digits_cnn import WEIGHTS, DigitsNet, load_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()

    start = time.perf_counter()
    generator = deterministic()
    train_x, train_y = load_split("train")
    test_x, test_y = load_split("test")
    model = DigitsNet()
    fit(model, train_x, train_y, generator, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, report_every=10)
    train_acc = accuracy(model, train_x, train_y)
    test_acc = accuracy(model, test_x, test_y)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # one metadata key: safetensors writes several in random order, and the file should be byte-reproducible
    training = {
        "seed": SEED,
        "epochs": args.epochs,
        "train_accuracy": round(train_acc, 4),
        "test_accuracy": round(test_acc, 4),
    }
    write_safetensors(args.out, state, {"ganzoo_training": json.dumps(training, sort_keys=True)})
    elapsed = time.perf_counter() - start
    print(f"train accuracy {train_acc:.4f}")
    print(f"held-out test accuracy {test_acc:.4f} ({int(round(test_acc * test_y.shape[0]))}/{test_y.shape[0]})")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
