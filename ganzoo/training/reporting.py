"""What a trainer says and writes besides its weights: the start, progress and end lines, the progress bar, the
metrics log (and its repair on resume), TensorBoard's event files, sample grids, and the versions and plugin
provenance a run folder records."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganzoo.files import AppendLog, write_bytes, write_text
from ganzoo.pictures import save_samples
from ganzoo.training.checkpoint import checkpoint_name, list_checkpoints
from ganzoo.values import is_number
from ganzoo.version import __version__


class Reporting:
    """Mixed into the Trainer, whose ``config``, ``run_dir``, ``world``, ``device``, ``amp``, ``progress``,
    ``elapsed``, ``step``, ``samples``, ``G``, ``ema`` and fixed noise (and labels) it reads."""

    def _trim_metrics(self, step: int) -> None:
        """Drop log lines written after the checkpoint being resumed, so the log has no repeated steps."""
        path = self.run_dir / "metrics.jsonl"
        if not path.exists():
            return
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = text.split("\n")
        kept, bad = [], []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                logged = record["step"]
                if not is_number(logged):
                    raise TypeError
            except (ValueError, KeyError, TypeError, IndexError):
                bad.append(number)
                continue
            if logged <= step:
                kept.append(line)
        if bad:
            torn = bad[-1] == len(lines) and not text.endswith("\n")  # the last write was cut short
            middle = bad[:-1] if torn else bad
            parts = ["an incomplete last line (the process stopped while writing it)"] if torn else []
            if middle:
                parts.insert(
                    0,
                    f"{len(middle)} unreadable line{'s' if len(middle) > 1 else ''} ({', '.join(map(str, middle[:5]))}"
                    f"{', ...' if len(middle) > 5 else ''})",
                )
            print(f"ganzoo: warning: {path}: dropped {' and '.join(parts)}", file=sys.stderr)
        write_text(path, "".join(line + "\n" for line in kept))

    def _open_log(self):
        if not self.world.is_main:
            import io

            return io.StringIO()
        return AppendLog(self.run_dir / "metrics.jsonl")

    def _bar(self, start: int):
        if not self.world.is_main:
            return None
        interactive = self.progress if self.progress is not None else sys.stderr.isatty()
        if not interactive:
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=self.config.steps, initial=start, desc=f"{self.config.variant}", unit="step", dynamic_ncols=True
        )

    _writer: Any = None

    def _tensorboard(self, values: dict[str, float]) -> None:
        if self._writer is False:
            return
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except Exception:
                self._writer = False
                return
            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
        for key, value in values.items():
            if key != "step":
                self._writer.add_scalar(key, value, values["step"])

    @staticmethod
    def _postfix(values: dict[str, float]) -> dict[str, str]:
        return {
            "loss_d": f"{values['loss_d']:.3f}",
            "loss_g": f"{values['loss_g']:.3f}",
            "D(x) logit": f"{values['d_real']:.2f}",
            "D(G(z)) logit": f"{values['d_fake']:.2f}",
            "img/s": f"{values['img_s']:.0f}",
        }

    def _plain_line(self, values: dict[str, float]) -> str:
        return (
            f"step {values['step']}/{self.config.steps}  loss_d {values['loss_d']:.4f}  loss_g {values['loss_g']:.4f}  "
            f"D(x) logit {values['d_real']:.3f}  D(G(z)) logit {values['d_fake']:.3f}  {values['img_s']:.0f} img/s"
            f"  {self._progress_words(int(values['step']))}"
        )

    began: tuple[int, float, float] = (0, 0.0, 0.0)  # this command's first step, its clock then, and ``elapsed`` then

    def _progress_words(self, step: int) -> str:
        """``45%  ETA 1m02s``: the share of the run done, and the time left at this command's pace so far."""
        first, clock, _ = self.began
        done = step / max(1, self.config.steps)
        words = f"{100 * done:.0f}%"
        if step > first and step < self.config.steps:
            left = (time.perf_counter() - clock) / (step - first) * (self.config.steps - step)
            words += f"  ETA {clock_words(left)}"
        return words

    def _start_line(self, start: int) -> str:
        """What is about to train, where and into which folder: printed before the first step."""
        cfg = self.config
        where = str(self.device) if self.world.size == 1 else f"{self.device.type}, {self.world.size} processes"
        where += ", bf16 autocast" if self.amp else ""
        where += f", {self.threads}" if self.threads is not None else ""
        batch = f"batch {cfg.batch_size}" + (" per process" if self.world.size > 1 else "")
        doing = f"resuming {cfg.variant} at step {start}" if start else f"training {cfg.variant}"
        return f"{doing} on {cfg.data} ({where}, {cfg.steps} steps, {batch}) into {self.run_dir}"

    quiet = False  # no start, progress and end lines (one of several trainers taking turns)
    threads: Any = None  # torch's CPU threads as chosen (ganzoo.cpu.Threads), on the CPU

    def _say(self, text: str) -> None:
        if self.world.is_main and not self.quiet:
            print(text, flush=True)

    def finish(self, start: int) -> None:
        """Close the run's writers and say where it is (its folder, samples, last checkpoint)."""
        if self._writer:
            self._writer.close()
        if not self.world.is_main:
            return
        checkpoints = list_checkpoints(self.run_dir)
        done = f"trained {self.config.variant} on {self.config.data}: "
        if start:  # resumed: what this command trained first, then the run's whole training time
            this = clock_words(self.elapsed - self.began[2], tenths=True)
            done += f"steps {start}-{self.step} in {this} (this command); step {self.step} after "
            done += f"{clock_words(self.elapsed, tenths=True)} of training in all"
        else:
            done += f"step {self.step} in {clock_words(self.elapsed, tenths=True)}"
        self._say(done)
        self._say(f"run:        {self.run_dir}")
        self._say(f"samples:    {self.run_dir / 'samples' / 'latest.png'}")
        if checkpoints:
            self._say(f"checkpoint: {checkpoints[0]}")

    def sample_generator(self) -> nn.Module:
        return self.ema.module if self.ema else self.G

    def write_samples(self) -> Path:
        path = self.run_dir / "samples" / f"{checkpoint_name(self.step)}.png"
        G = self.sample_generator()
        was = G.training
        G.eval()
        with torch.no_grad():
            if self.fixed_labels is None:
                fake = torch.cat([G(chunk).float() for chunk in self.fixed_noise.split(512)])
            else:  # one row of eight per class
                fake = torch.cat(
                    [G(z, y).float() for z, y in zip(self.fixed_noise.split(512), self.fixed_labels.split(512))]
                )
        G.train(was)
        real = None
        if fake.dim() == 2:
            real = self.samples.data[
                torch.randperm(len(self.samples), generator=torch.Generator().manual_seed(0))[:2000]
            ]
        save_samples(fake, path, real=real, title=f"{self.config.variant} on {self.config.data}, step {self.step}")
        write_bytes(self.run_dir / "samples" / "latest.png", path.read_bytes())
        return path


def clock_words(seconds: float, tenths: bool = False) -> str:
    """A duration as ``8m08.8s`` (``tenths``) or ``1m02s``."""
    seconds = max(0.0, seconds)
    if not tenths:
        seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s" if tenths else f"{int(minutes)}m{int(rest):02d}s"


def versions() -> dict[str, str]:
    """ganzoo's, torch's, Python's and every third-party plugin distribution's version."""
    from ganzoo.plugins import plugin_infos

    found = {"ganzoo": __version__, "torch": torch.__version__, "python": platform.python_version()}
    for info in plugin_infos():
        if info.distribution != "ganzoo" and not info.error:
            found[info.distribution] = info.version
    return found


def provenance(kind: str, name: str) -> dict[str, str]:
    """Which plugin, distribution and version registered ``name`` of ``kind`` (what a run folder records)."""
    from ganzoo.plugins import registry

    entry = registry().get(kind, name)
    return {"name": entry.name, "plugin": entry.plugin, "distribution": entry.distribution, "version": entry.version}
