"""Each loss against a hand computation on fixed logits."""

import math

import pytest
import torch

import ganzoo

REAL = torch.tensor([2.0, -1.0, 0.5])
FAKE = torch.tensor([-3.0, 0.0, 1.0])


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_minimax_is_the_papers_objective():
    loss = ganzoo.get_loss("minimax")()
    d = (
        sum(-math.log(sigmoid(r)) for r in REAL.tolist()) / 3
        + sum(-math.log(1 - sigmoid(f)) for f in FAKE.tolist()) / 3
    )
    g = sum(math.log(1 - sigmoid(f)) for f in FAKE.tolist()) / 3
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(d, rel=1e-6)
    assert loss.generator_loss(FAKE).item() == pytest.approx(g, rel=1e-6)


def test_nonsaturating_generator_maximises_log_d():
    loss = ganzoo.get_loss("nonsaturating")()
    g = sum(-math.log(sigmoid(f)) for f in FAKE.tolist()) / 3
    assert loss.generator_loss(FAKE).item() == pytest.approx(g, rel=1e-6)
    # Same discriminator objective as minimax.
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(
        ganzoo.get_loss("minimax")().discriminator_loss(REAL, FAKE).item()
    )


def test_minimax_saturates_where_nonsaturating_does_not():
    """Early on D rejects fakes confidently (logit -10): the minimax G gradient vanishes, the other does not."""
    grads = {}
    for name in ("minimax", "nonsaturating"):
        logits = torch.tensor([-10.0], requires_grad=True)
        ganzoo.get_loss(name)().generator_loss(logits).backward()
        grads[name] = abs(logits.grad.item())
    assert grads["minimax"] < 1e-4
    assert grads["nonsaturating"] > 0.99


def test_wasserstein_losses_and_clipping():
    loss = ganzoo.get_loss("wasserstein")()
    assert loss.n_critic == 5 and loss.clip == 0.01
    assert loss.discriminator_loss(REAL, FAKE).item() == pytest.approx(FAKE.mean().item() - REAL.mean().item())
    assert loss.generator_loss(FAKE).item() == pytest.approx(-FAKE.mean().item())
    critic = torch.nn.Linear(4, 1)
    with torch.no_grad():
        critic.weight.fill_(0.5)
    loss.after_discriminator_step(critic)
    assert critic.weight.abs().max().item() == pytest.approx(0.01)
    assert loss.regularizer(critic, torch.zeros(2, 4), torch.zeros(2, 4)) is None


class UnitGradientCritic(torch.nn.Module):
    """D(x) = w . x with |w| = 1: the input gradient has norm exactly 1 everywhere."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([0.6, 0.8]) * scale)

    def forward(self, x):
        return x @ self.w


def test_gradient_penalty_is_zero_for_unit_norm_input_gradient():
    loss = ganzoo.get_loss("wgan-gp")()
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert loss.regularizer(UnitGradientCritic(), real, fake).item() == pytest.approx(0.0, abs=1e-10)
    # |grad| = 3 -> gp_weight * (3 - 1)^2 = 40
    assert loss.regularizer(UnitGradientCritic(3.0), real, fake).item() == pytest.approx(40.0, rel=1e-6)


def test_gradient_penalty_runs_in_fp32_under_bf16_autocast():
    loss = ganzoo.get_loss("wgan-gp")()
    critic = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Flatten(0))
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        penalty = loss.regularizer(critic, real.bfloat16(), fake.bfloat16())
    assert penalty.dtype == torch.float32
    penalty.backward()
    assert torch.isfinite(critic[0].weight.grad).all() and critic[0].weight.grad.abs().sum() > 0
