"""The ``ganzoo sample`` command: seeded grids, truncated samples, interpolation rows and raw .npy files."""

from __future__ import annotations

import io
import math
from pathlib import Path

import click

import ganzoo.cpu as cpu
from ganzoo.cli_shared import positive, threads_option
from ganzoo.errors import GanzooError, UsageError

MAX_SAMPLES = 100_000  # what `ganzoo sample -n` draws at most in one call
PROGRESS_FROM = 2_000  # from this many samples on, a progress bar on stderr
IMAGES = 64  # what `ganzoo sample` draws without -n
PATHS = 8  # rows an interpolation draws without -n


def _truncation(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise click.BadParameter(f"must be a positive number (e.g. 0.7), got {value}")
    return value


def _frames(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 2:
        raise click.BadParameter(f"an interpolation row needs at least 2 frames (its two ends), got {value}")
    return value


def _scale(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 64:
        raise click.BadParameter(f"must be a whole factor from 1 to 64, got {value}")
    return value


@click.command("sample")
@click.argument("source")
@click.option(
    "-n",
    "count",
    type=int,
    callback=positive,
    help=f"How many samples (default {IMAGES}); with --interpolate, how many rows (default {PATHS}).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Noise seed: the same seed gives the same samples."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Output file (default: samples.png or samples.npy)."
)
@click.option("--nrow", type=int, callback=positive, help="Images per row of the grid.")
@click.option(
    "--format", "fmt", type=click.Choice(["png", "npy"]), help="png grid (or scatter plot for points), or raw npy."
)
@click.option("--device", default=None, help="auto, cpu, cuda, cuda:K or mps.")
@click.option(
    "--ema/--no-ema",
    default=True,
    show_default=True,
    help="A run's EMA weights (when it has some), or its raw generator.",
)
@click.option(
    "--class",
    "class_",
    type=int,
    help="A class-conditional generator's class to draw (default: every class in turn, one per column).",
)
@click.option(
    "--truncation",
    type=float,
    callback=_truncation,
    metavar="T",
    help="The truncation trick: latent entries beyond ±T drawn again (smaller T: more typical, less varied samples).",
)
@click.option(
    "--interpolate",
    "frames",
    type=int,
    callback=_frames,
    metavar="K",
    help="Rows of K frames, each walking from one random latent to another (slerp).",
)
@click.option(
    "--lerp", is_flag=True, help="Interpolate along straight lines instead of great circles (with --interpolate)."
)
@click.option(
    "--scale",
    type=int,
    callback=_scale,
    metavar="N",
    help="Enlarge each image N times, nearest neighbour (default: to at least 64 px, e.g. 4 for 16 px images).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help=f"A progress bar on stderr (default: from {PROGRESS_FROM} samples on).",
)
@threads_option
def sample_command(
    source: str,
    count: int | None,
    seed: int,
    output: str | None,
    nrow: int | None,
    fmt: str | None,
    device: str | None,
    ema: bool,
    class_: int | None,
    truncation: float | None,
    frames: int | None,
    lerp: bool,
    scale: int | None,
    progress: bool | None,
) -> None:
    """Draw samples from SOURCE (a pretrained generator's name, a run folder, a generator folder or a Hub repo)
    into a grid or an .npy file.

    `--interpolate K` draws rows of K frames between random latents; `--truncation T` trades variety for typical
    samples where the generator's noise is normal.
    """
    from ganzoo.files import check_output_file, write_bytes
    from ganzoo.pictures import save_scatter
    from ganzoo.sources import load_generator

    if lerp and frames is None:
        raise UsageError("--lerp says how to interpolate; add --interpolate K (frames per row), or drop --lerp")
    rows = count or PATHS
    total = rows * frames if frames is not None else (count or IMAGES)
    if total > MAX_SAMPLES:
        what = f"{rows} rows of {frames} frames" if frames is not None else f"{total}"
        raise click.BadParameter(f"at most {MAX_SAMPLES} samples at a time, got {what}", param_hint="'-n'")
    fmt = fmt or (Path(output).suffix.lstrip(".") if output and Path(output).suffix in (".png", ".npy") else "png")
    output = str(check_output_file(output or f"samples.{fmt}", "-o"))
    gen = load_generator(source, device=device, ema=ema)
    if next(gen.parameters()).device.type == "cpu":
        cpu.use(sum(p.numel() for p in gen.parameters()))
    if truncation is not None:
        from ganzoo.generator import check_truncation

        check_truncation(truncation, gen.noise)  # before anything is drawn: uniform noise has no truncation trick
    if frames is not None:
        if gen.sample_shape and len(gen.sample_shape) != 3 and fmt == "png":
            raise UsageError("--interpolate draws rows of images; this generator makes points (use --format npy)")
        z = gen.latents(2 * rows, seed, truncation)
        samples = gen.interpolate(z[:rows], z[rows:], frames, "lerp" if lerp else "slerp", labels=class_)
        samples = samples.reshape(rows * frames, *samples.shape[2:]).cpu()
        nrow = frames
        label = f"{rows} rows of {frames} {'lerp' if lerp else 'slerp'} frames"
    else:
        shown = progress if progress is not None else total >= PROGRESS_FROM
        samples = gen.sample(total, seed=seed, labels=class_, truncation=truncation, progress=shown).cpu()
        label = f"{total} samples"
    if not bool(samples.isfinite().all()):
        raise GanzooError(
            f"{source} drew samples holding NaN or infinity; nothing was written (the generator is broken)"
        )
    if fmt == "npy":
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, samples.numpy())
        write_bytes(output, buffer.getvalue())
    elif samples.dim() == 2:
        save_scatter(samples, output, title=f"{total} samples, seed {seed}")
    else:
        buffer = io.BytesIO()
        picture = gen.grid(nrow=nrow, scale=scale, labels=class_, samples=samples)
        picture.save(buffer, format="PNG")
        write_bytes(output, buffer.getvalue())
        label += f" ({picture.width}x{picture.height} px)"
    click.echo(f"wrote {label} to {output}" + (f" (truncation {truncation:g})" if truncation is not None else ""))
