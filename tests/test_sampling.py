"""What a zoo user does next to load_generator: latents, interpolations, truncated samples and grids, in Python and
through `ganzoo sample`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganzoo import load_generator
from ganzoo.errors import UsageError
from ganzoo.generator import grid_scale, interpolate_latents

SHIPPED = Path(__file__).resolve().parent.parent / "plugins" / "ganzoo_dcgan" / "pretrained" / "dcgan-digits"


@pytest.fixture(scope="module")
def digits():
    return load_generator("dcgan-digits", device="cpu")


@pytest.fixture
def uniform_folder(tmp_path):
    """A generator folder whose config.json says its latents are uniform (as a third party may publish)."""
    folder = tmp_path / "uniform-gen"
    shutil.copytree(SHIPPED, folder)
    config = json.loads((folder / "config.json").read_text())
    config["noise"] = "uniform"
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolation_ends_are_exactly_the_latents_given(method):
    a, b = torch.randn(4, 16, generator=torch.Generator().manual_seed(1)).split(2)
    path = interpolate_latents(a, b, 7, method)
    assert path.shape == (2, 7, 16)
    assert torch.equal(path[:, 0], a) and torch.equal(path[:, -1], b)
    single = interpolate_latents(a[0], b[0], 5, method)
    assert single.shape == (5, 16) and torch.equal(single[0], a[0]) and torch.equal(single[-1], b[0])


def test_slerp_keeps_to_the_sphere_where_lerp_cuts_through_it():
    a = torch.tensor([3.0, 0.0])
    b = torch.tensor([0.0, 3.0])
    slerp = interpolate_latents(a, b, 5, "slerp")
    lerp = interpolate_latents(a, b, 5, "lerp")
    assert torch.allclose(slerp.norm(dim=-1), torch.full((5,), 3.0))
    assert torch.allclose(slerp[2], torch.tensor([3.0, 3.0]) / 2**0.5)
    assert torch.allclose(lerp[2], torch.tensor([1.5, 1.5]))


def test_generator_interpolation_starts_and_ends_at_the_samples_of_its_latents(digits):
    z = digits.latents(4, seed=5)
    frames = digits.interpolate(z[:2], z[2:], 6)
    assert frames.shape == (2, 6, *digits.sample_shape)
    assert torch.allclose(frames[:, 0], digits.generate(z[:2]), atol=1e-6)
    assert torch.allclose(frames[:, -1], digits.generate(z[2:]), atol=1e-6)
    by_seed = digits.interpolate(0, 1, 3, method="lerp")
    assert by_seed.shape == (3, *digits.sample_shape)
    assert torch.allclose(by_seed[0], digits.sample(1, seed=0)[0], atol=1e-6)


def test_seeded_latents_samples_and_grids_repeat_and_seeds_differ(digits):
    assert torch.equal(digits.latents(8, seed=3), digits.latents(8, seed=3))
    assert not torch.equal(digits.latents(8, seed=3), digits.latents(8, seed=4))
    assert torch.equal(digits.sample(8, seed=3), digits.generate(digits.latents(8, seed=3)))
    one, two, other = digits.grid(16, seed=3), digits.grid(16, seed=3), digits.grid(16, seed=4)
    assert one.tobytes() == two.tobytes() and one.tobytes() != other.tobytes()
    assert one.size == (4 * (64 + 2) + 2,) * 2  # 32 px cells enlarged twice by default, 2 px between them
    assert digits.grid(16, seed=3, scale=1).size == (4 * (32 + 2) + 2,) * 2


def test_grid_scale_default_reaches_64_px_by_whole_factors():
    assert [grid_scale((1, s, s)) for s in (8, 16, 28, 32, 64, 128)] == [8, 4, 3, 2, 1, 1]
    assert grid_scale((1, 16, 16), 1) == 1


@pytest.mark.parametrize("t", [0.25, 0.7, 2.0])
def test_truncated_latents_stay_inside_and_keep_the_entries_already_inside(digits, t):
    plain = digits.latents(500, seed=9)
    cut = digits.latents(500, seed=9, truncation=t)
    assert float(cut.abs().max()) <= t
    inside = plain.abs() <= t
    assert torch.equal(cut[inside], plain[inside])
    assert float(cut[~inside].std()) > t / 4  # drawn again over the interval, not clamped to its ends
    assert torch.equal(cut, digits.latents(500, seed=9, truncation=t))
    assert digits.sample(4, seed=9, truncation=t).shape == (4, *digits.sample_shape)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_python_api_refuses_a_truncation_that_is_not_positive(digits, bad):
    with pytest.raises(UsageError, match="truncation must be a positive number"):
        digits.latents(4, seed=0, truncation=bad)


def test_python_api_refuses_too_few_steps_and_unknown_methods(digits):
    with pytest.raises(UsageError, match="at least 2 steps"):
        digits.interpolate(0, 1, 1)
    with pytest.raises(UsageError, match="'slerp' or 'lerp'"):
        digits.interpolate(0, 1, 4, method="cubic")


def test_uniform_noise_is_drawn_uniform_and_refuses_truncation(uniform_folder):
    gen = load_generator(uniform_folder, device="cpu")
    z = gen.latents(2000, seed=0)
    assert gen.noise == "uniform" and float(z.min()) >= -1 and float(z.max()) <= 1 and float(z.std()) < 0.7
    with pytest.raises(UsageError, match="needs normal noise"):
        gen.sample(4, seed=0, truncation=0.5)


def test_sample_interpolate_writes_rows_of_frames(run_cli, tmp_path):
    out = tmp_path / "walk.png"
    result = run_cli("sample", "dcgan-digits", "--interpolate", "8", "-n", "3", "-o", str(out), "--scale", "1")
    assert result.code == 0, result.err
    assert "3 rows of 8 slerp frames" in result.out
    assert Image.open(out).size == (8 * 34 + 2, 3 * 34 + 2)
    lerp = tmp_path / "lerp.png"
    assert run_cli("sample", "dcgan-digits", "--interpolate", "8", "-n", "3", "--lerp", "-o", str(lerp)).code == 0
    assert Image.open(lerp).size == (8 * 66 + 2, 3 * 66 + 2)
    assert lerp.read_bytes() != out.read_bytes()


def test_sample_same_seed_same_file_and_truncation_said(run_cli, tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    for path in (first, second):
        result = run_cli("sample", "dcgan-digits", "-n", "16", "--seed", "2", "--truncation", "0.6", "-o", str(path))
        assert result.code == 0, result.err
    assert first.read_bytes() == second.read_bytes()
    assert "(truncation 0.6)" in result.out
    array = tmp_path / "z.npy"
    assert run_cli("sample", "dcgan-digits", "-n", "5", "--format", "npy", "-o", str(array)).code == 0


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--truncation", "0"], "--truncation"),
        (["--truncation", "-0.5"], "--truncation"),
        (["--interpolate", "1"], "at least 2 frames"),
        (["--interpolate", "0"], "at least 2 frames"),
        (["--lerp"], "add --interpolate K"),
        (["--scale", "0"], "--scale"),
        (["--interpolate", "1000", "-n", "1000"], "at most 100000 samples"),
    ],
)
def test_bad_sample_values_are_one_line_exit_2_and_write_nothing(run_cli, tmp_path, flags, message):
    out = tmp_path / "never.png"
    result = run_cli("sample", "dcgan-digits", "-o", str(out), *flags)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and message in result.err
    assert not out.exists()


def test_truncating_uniform_noise_is_one_line_exit_2(run_cli, tmp_path, uniform_folder):
    out = tmp_path / "never.png"
    result = run_cli("sample", str(uniform_folder), "--truncation", "0.5", "-o", str(out))
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "ganzoo: error: the truncation trick needs normal noise; "
        'this generator draws uniform noise (config.json "noise"), '
        "so drop the truncation"
    ]
    assert not out.exists()
