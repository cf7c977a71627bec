"""Train the digits-cnn feature extractor and write plugins/ganzoo_metrics/digits_cnn.safetensors.

Deterministic (fixed seed, CPU, one thread), about half a minute: the 1437-image train split
of scikit-learn's digits resized to 32x32, light augmentation (random shifts of up to 2
pixels), Adam with a cosine learning-rate decay. Prints the held-out test accuracy.

    python tools/train_digits_cnn.py [--out PATH] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ganzoo.data import to_model_range
from ganzoo_metrics.digits_cnn import WEIGHTS, DigitsNet, load_split

SEED = 0
SHIFT = 2


def shift_batch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by a random whole-pixel offset in [-SHIFT, SHIFT]^2, background (-1) filled in."""
    n, _, h, w = x.shape
    padded = F.pad(x, (SHIFT, SHIFT, SHIFT, SHIFT), value=-1.0)
    offsets = torch.randint(0, 2 * SHIFT + 1, (n, 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets.tolist())])


def accuracy(model: DigitsNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    with torch.inference_mode():
        predictions = model(to_model_range(images)).argmax(dim=1)
    return float((predictions == labels).float().mean())


def save_atomic(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()

    start = time.perf_counter()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    generator = torch.Generator().manual_seed(SEED)

    train_x, train_y = load_split("train")
    test_x, test_y = load_split("test")
    train_x = to_model_range(train_x)

    model = DigitsNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = -(-train_x.shape[0] // args.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(train_x.shape[0], generator=generator)
        total = 0.0
        for i in range(0, train_x.shape[0], args.batch_size):
            idx = order[i : i + args.batch_size]
            loss = F.cross_entropy(model(shift_batch(train_x[idx], generator)), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * idx.shape[0]
        if (epoch + 1) % 10 == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1}/{args.epochs}  loss {total / train_x.shape[0]:.4f}", flush=True)

    model.eval()
    with torch.inference_mode():
        raw = model.body(train_x)
    model.feature_scale.fill_(float(raw.pow(2).mean().sqrt()))
    train_acc = accuracy(model, load_split("train")[0], train_y)
    test_acc = accuracy(model, test_x, test_y)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # one metadata key: safetensors writes several in random order, and the file should be byte-reproducible
    training = {
        "seed": SEED,
        "epochs": args.epochs,
        "train_accuracy": round(train_acc, 4),
        "test_accuracy": round(test_acc, 4),
    }
    save_atomic(state, args.out, {"ganzoo_training": json.dumps(training, sort_keys=True)})
    elapsed = time.perf_counter() - start
    print(f"train accuracy {train_acc:.4f}")
    print(f"held-out test accuracy {test_acc:.4f} ({int(round(test_acc * test_y.shape[0]))}/{test_y.shape[0]})")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
