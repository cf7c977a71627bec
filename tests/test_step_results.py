"""The training step gives the same numbers as recorded: every variant's per-step losses and final weights, bitwise.

tests/data/step_results.json holds what the step gave for a few steps of ``gan``, ``wgan-gp``, ``cgan-pd``,
``acgan``, ``pacgan2`` and ``wgan`` (and the conditional ones with a gradient penalty), with the torch version that
computed them; on another torch version the comparison is skipped (its kernels may round differently). Record it
again (only when a change is meant to move the numbers) with ``python tests/test_step_results.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
import torch

from ganzoo import cpu
from ganzoo.training.config import parse_sets, resolve_config
from ganzoo.training.loop import COLUMNS, Trainer

RECORD = Path(__file__).resolve().parent / "data" / "step_results.json"
STEPS = 3
SMALL = ["data.size=16", "arch.g_width=8", "arch.d_width=8"]
GP = ["loss=wgan-gp", "loss.n_critic=2"]
# case -> (variant, data set, --set overrides), each small enough to train in a second on the CPU; the last three
# reach the class-conditional gradient penalty and weight clipping
CASES = {
    "gan": ("gan", "ring", []),
    "wgan-gp": ("wgan-gp", "ring", []),
    "cgan-pd": ("cgan-pd", "digits", SMALL),
    "acgan": ("acgan", "digits", SMALL),
    "pacgan2": ("pacgan2", "ring", []),
    "cgan-pd-gp": ("cgan-pd", "digits", SMALL + GP),
    "acgan-gp": ("acgan", "digits", SMALL + GP),
    "wgan": ("wgan", "digits", SMALL),
}


def train(case: str, tmp_path: Path, static: bool = False) -> dict:
    """A few fp32 steps of a case on the CPU: each step's history row and the sha256 of the final weights."""
    variant, data, sets = CASES[case]
    config = resolve_config(
        variant,
        data=data,
        batch_size=16 if variant != "pacgan2" else 32,
        seed=5,
        device="cpu",
        amp=False,
        overrides=parse_sets(sets),
    )
    threads = torch.get_num_threads()
    # one thread, as --threads 1 asks (the trainer sets torch's threads itself): a CPU kernel may split a sum by
    # threads, and so round by their number
    cpu.request(1)
    try:
        trainer = Trainer(config, tmp_path / f"{case}-{static}", progress=False)
        trainer.static = static
        trainer.setup()
        if static and trainer.ema:
            trainer.ema.start_count(0)
        history = torch.zeros(STEPS, len(COLUMNS))
        for _ in range(STEPS):
            trainer.train_step(history)
            trainer.step += 1
        assert torch.get_num_threads() == 1
    finally:
        cpu.request(None)
        torch.set_num_threads(threads)
    return {
        "history": [[float(v) for v in row] for row in history],  # (float32 values: exact as Python floats)
        "generator": weights_digest(trainer.G),
        "discriminator": weights_digest(trainer.D),
    }


def weights_digest(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def recorded() -> dict:
    found = json.loads(RECORD.read_text())
    if found["torch"] != torch.__version__:
        pytest.skip(f"the step's results were recorded with torch {found['torch']}; this is torch {torch.__version__}")
    return found["variants"]


@pytest.mark.parametrize("static", [False, True], ids=["eager", "static"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_variant_trains_to_the_recorded_losses_and_weights(case, static, tmp_path):
    """The eager step and the static (capturable) one both give, bitwise, the losses and weights recorded."""
    expected = recorded()[case]
    got = train(case, tmp_path, static=static)
    assert got["history"] == expected["history"]
    assert got["generator"] == expected["generator"]
    assert got["discriminator"] == expected["discriminator"]


def fused_adam_on_cpu() -> bool:
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("amp", [False, True], ids=["fp32", "bf16"])
def test_cpu_adam_is_fused_for_bf16_steps_and_multi_tensor_for_the_recorded_fp32_ones(amp, tmp_path):
    """fp32 CPU steps keep the multi-tensor Adam whose rounding the numbers above (and the zoo's entries) were made
    with; bf16 steps take the faster fused one where this torch has it (docs/performance.md)."""
    config = resolve_config("gan", data="ring", steps=1, batch_size=16, seed=5, device="cpu", amp=amp)
    trainer = Trainer(config, tmp_path / "run", progress=False)
    trainer.setup()
    for optimizer in (trainer.opt_g, trainer.opt_d):
        group = optimizer.param_groups[0]
        fused = amp and fused_adam_on_cpu()
        assert bool(group["fused"]) is fused
        assert bool(group["foreach"]) is not fused


def record() -> None:
    import tempfile

    from ganzoo import plugins

    with tempfile.TemporaryDirectory() as folder:
        plugins.reset()
        results = {case: train(case, Path(folder)) for case in sorted(CASES)}
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps({"torch": torch.__version__, "steps": STEPS, "variants": results}, indent=1) + "\n")
    print(f"recorded {RECORD} with torch {torch.__version__}")


if __name__ == "__main__":
    sys.exit(record())
