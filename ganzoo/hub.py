"""Generator folders: save and load them locally; push to and pull from the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path

from ganzoo.generator import Generator, load_run_generator


def load_generator(source: str | Path, device: str | None = None, ema: bool = True) -> Generator:
    """A generator from a run folder (more sources arrive with the Hub support)."""
    return load_run_generator(source, device=device, ema=ema)
