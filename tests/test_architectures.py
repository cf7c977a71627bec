"""Every architecture builds a G and D with the right output shapes for points, 32 px and 64 px, 1 and 3 channels."""

import pytest
import torch

import ganzoo
from ganzoo.errors import UsageError

SHAPES = [(2,), (1, 32, 32), (3, 32, 32), (1, 64, 64), (3, 64, 64)]
SMALL = {
    "mlp": {"g_width": 16, "g_depth": 2, "d_width": 8, "d_depth": 2, "d_maxout": 2},
    "dcgan": {"g_width": 4, "d_width": 4},
    "timm": {"model": "resnet10t", "g_width": 4},
}


@pytest.mark.parametrize("name", ["mlp", "dcgan", "timm"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_output_shapes(name, shape):
    arch = ganzoo.get_architecture(name).create(**SMALL[name])
    if len(shape) == 1 and name != "mlp":
        with pytest.raises(UsageError, match="square images"):
            arch.check(shape, 8)
        return
    torch.manual_seed(0)
    G, D = arch.generator(shape, 8), arch.discriminator(shape)
    fake = G(torch.randn(5, 8))
    assert fake.shape == (5, *shape)
    assert D(fake).shape == (5,)
    if len(shape) == 3:
        assert fake.abs().max() <= 1.0  # tanh output for images


def test_dcgan_follows_radford():
    G = ganzoo.get_architecture("dcgan")().generator((1, 32, 32), 100)
    D = ganzoo.get_architecture("dcgan")().discriminator((1, 32, 32))
    convs = [m for m in [*G.modules(), *D.modules()] if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert all(c.bias is None for c in convs)
    weights = torch.cat([c.weight.flatten() for c in convs])
    assert abs(weights.std().item() - 0.02) < 0.002 and abs(weights.mean().item()) < 0.002
    assert any(isinstance(m, torch.nn.LeakyReLU) and m.negative_slope == 0.2 for m in D.modules())
    assert isinstance(list(G.modules())[-1], torch.nn.Tanh)


def test_critic_without_batch_norm_for_wgan_gp():
    variant = ganzoo.get_variant("wgan-gp")
    arch = ganzoo.get_architecture(variant.architecture).create(**variant.architecture_options)
    D = arch.discriminator((1, 32, 32))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules())


def test_mlp_defaults_follow_pacgan_2d():
    arch = ganzoo.get_architecture("mlp")()
    G, D = arch.generator((2,), arch.default_latent_dim((2,))), arch.discriminator((2,))
    linears = [m for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [400, 400, 400, 400, 2]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules()) == 4
    assert linears[0].in_features == 2
    maxouts = [m for m in D.modules() if type(m).__name__ == "Maxout"]
    assert [(m.width, m.pieces) for m in maxouts] == [(200, 5)] * 3


def test_mlp_init_std_draws_the_pacgan_codes_initialisation_and_0_keeps_pytorchs():
    def linears(module):
        return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]

    torch.manual_seed(0)
    paper = ganzoo.get_architecture("mlp").create(init_std=0.02)
    networks = [paper.generator((2,), 2), paper.discriminator((2,)), paper.discriminator((8,))]  # (8,): PacGAN4's
    for layer in [m for net in networks for m in linears(net)]:
        assert abs(layer.weight.std().item() - 0.02) < 0.2 * 0.02 or layer.weight.numel() < 200
        assert layer.bias is None or not layer.bias.any()
    weights = torch.cat([m.weight.flatten() for net in networks for m in linears(net)])
    assert abs(weights.std().item() - 0.02) < 0.0005 and abs(weights.mean().item()) < 0.0005
    assert all(
        bn.weight.eq(1).all() and bn.bias.eq(0).all()
        for bn in networks[0].modules()
        if isinstance(bn, torch.nn.BatchNorm1d)
    )
    torch.manual_seed(0)
    default = ganzoo.get_architecture("mlp")().discriminator((2,))
    first = linears(default)[0].weight  # PyTorch's U(-1/sqrt(2), 1/sqrt(2)) for 2 inputs
    assert first.abs().max().item() <= 2**-0.5 and first.std().item() > 0.3
    with pytest.raises(UsageError, match="init_std"):
        ganzoo.get_architecture("mlp").create("architecture 'mlp'", init_std=-1)


def test_spectral_norm_after_the_paper_initialisation_still_bounds_the_weights():
    torch.manual_seed(0)
    D = ganzoo.get_architecture("mlp").create(init_std=0.02, d_spectral_norm=True, d_maxout=0).discriminator((2,))
    D.train()
    for _ in range(20):  # the power iteration converges over forward passes
        D(torch.randn(64, 2))
    norms = [
        torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() for m in D.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert len(norms) == 4 and all(abs(n - 1) < 0.05 for n in norms), norms


def test_dcgan_refuses_shapes_it_cannot_make():
    with pytest.raises(
        UsageError, match=r"square images of 16, 32, 64, 128, 256 px; the data has samples of shape \[3, 48, 48\]"
    ):
        ganzoo.get_architecture("dcgan")().check((3, 48, 48), 100)


def test_bad_option_values_are_named():
    with pytest.raises(
        UsageError, match="architecture 'dcgan' option 'd_norm': expected 'batch' \\| 'layer' \\| 'none', got 'group'"
    ):
        ganzoo.get_architecture("dcgan").create("architecture 'dcgan'", d_norm="group")
    with pytest.raises(UsageError, match="has no option 'width'"):
        ganzoo.get_architecture("mlp").create("architecture 'mlp'", width="3")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_maxout_gradient_is_amaxs_bit_for_bit_with_ties_batched_and_twice_differentiated(dtype):
    from torch.func import grad, vmap

    from ganzoo_vanilla.networks import MaxOverPieces

    torch.manual_seed(0)
    y = torch.randn(64, 5, 32).to(dtype)
    y[::3, 2] = y[::3, 0]  # ties for the maximum: amax shares the gradient among them
    y[::5, 1:4] = y[::5, 4:5]
    upstream = torch.randn(64, 32).to(dtype)
    assert (y == y.amax(1, keepdim=True)).sum(1).max() > 1

    def gradient(reduce, weights=upstream, create_graph=False):
        leaf = y.clone().requires_grad_()
        (out,) = torch.autograd.grad(reduce(leaf), leaf, weights, create_graph=create_graph)
        return out

    mine = gradient(MaxOverPieces.apply)
    assert torch.equal(mine, gradient(lambda t: t.amax(1)))
    assert mine.count_nonzero() > 32 * 64  # ties share: more pieces get gradient than there are units

    # stacked seeds run it under vmap: the same gradient per slice
    def loss(reduce, t, w):
        return (reduce(t) * w).sum()

    batched = vmap(grad(lambda t, w: loss(MaxOverPieces.apply, t, w)))(y.view(4, 16, 5, 32), upstream.view(4, 16, 32))
    assert torch.equal(batched.reshape_as(y), mine)
    # ... and as a stack runs it: batched forward, then the plain backward of its folded call
    seeds = y.view(4, 16, 5, 32).clone().requires_grad_()
    (folded,) = torch.autograd.grad(vmap(MaxOverPieces.apply)(seeds), seeds, upstream.view(4, 16, 32))
    assert torch.equal(folded.reshape_as(y), mine)

    # a gradient penalty differentiates the gradient again (with respect to the upstream gradient)
    def second_derivative(reduce):
        weights = upstream.clone().requires_grad_()
        first = gradient(reduce, weights, create_graph=True)
        return torch.autograd.grad(first.float().square().sum(), weights)[0]

    ours = second_derivative(MaxOverPieces.apply)
    assert torch.equal(ours, second_derivative(lambda t: t.amax(1)))
    assert ours.count_nonzero() == ours.numel()
