"""The one training loop: discriminator, regulariser and generator phases in turn — for every variant."""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn

import ganzoo.cpu as cpu
import ganzoo.training.graphs as graphs
import ganzoo.training.rates as rates
from ganzoo.conditional import step_phases
from ganzoo.contracts import check_samples, probe_networks
from ganzoo.data import Samples, to_model_range
from ganzoo.device import wants_cuda
from ganzoo.errors import GanzooError, UsageError, one_line
from ganzoo.files import write_json, writing
from ganzoo.generator import build_networks, noise
from ganzoo.training.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    list_checkpoints,
    optimizer_state,
    optimizer_tensors,
    save_checkpoint,
)
from ganzoo.training.config import TrainConfig, optimizer_keywords
from ganzoo.training.devices import default_amp, pick_device
from ganzoo.training.distributed import (
    all_gather_bytes,
    all_reduce_gradients,
    any_rank,
    broadcast_module,
    close_world,
    init_world,
)
from ganzoo.training.ema import EMA
from ganzoo.training.reporting import Reporting, provenance, versions
from ganzoo.values import is_int

# Columns of the per-step history kept on the device between log flushes.
COLUMNS = ("loss_d", "loss_g", "reg", "d_real", "d_fake")
SAMPLE_COUNT = 64
PLAIN_SECONDS = 30.0  # without a progress bar, a log flush this long after the last plain line prints one


class NonFiniteLoss(GanzooError):
    """A loss became NaN or infinite."""


class Stopped(Exception):
    """A signal asked training to stop after writing a checkpoint."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


def load_data(config: TrainConfig, split: str = "train") -> Samples:
    """The configured data set's samples, through its plugin."""
    from ganzoo.plugins import registry

    entry = registry().get("dataset", config.data)
    _, argument = registry().split("dataset", config.data)
    options = dict(config.data_options)
    if argument is not None:
        options = {"argument": argument, **options}
    samples = check_samples(entry.obj.create(f"data set {entry.name!r}", **options).load(split), entry, split)
    if len(samples) == 0:
        raise GanzooError(f"data set {config.data!r} holds no samples")
    return samples


def make_optimizer(
    config: TrainConfig,
    params: Any,
    lr: float | torch.Tensor,
    device: torch.device,
    capturable: bool = False,
    fused: bool = False,
) -> torch.optim.Optimizer:
    """Adam or RMSprop with multi-tensor kernels, or fused Adam (one pass over each tensor); ``capturable`` keeps
    their step counts on the device so a CUDA graph can hold the update. ``lr`` may be a one-element tensor the
    optimiser reads at each step (off CUDA, torch's Adam takes one only tensor by tensor).

    Adam is fused on CUDA, and on the CPU when ``fused`` (the trainer asks for it for its bf16 steps): there it
    takes a third of the multi-tensor kernels' time (docs/performance.md). fp32 on the CPU keeps the multi-tensor
    kernels, whose rounding the zoo's entries were built with, so a CPU rebuild still repeats their weights bit for
    bit. A torch without a fused CPU kernel gets the multi-tensor one."""
    extra = {"capturable": True} if capturable else {}
    keywords = optimizer_keywords(config)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, foreach=True, **keywords, **extra)
    if device.type != "cuda":
        if isinstance(lr, torch.Tensor) and not capturable:
            return torch.optim.Adam(params, lr=lr, foreach=False, **keywords)
        if not fused:
            return torch.optim.Adam(params, lr=lr, foreach=True, **keywords, **extra)
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True, **keywords, **extra)
    except RuntimeError:  # no fused kernel for this device in this torch
        return torch.optim.Adam(params, lr=lr, foreach=True, **keywords, **extra)


def grad_norm(module: nn.Module) -> torch.Tensor:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


@contextmanager
def stop_signals(note: Any) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM only call ``note(signum)``: training stops at its next step, after a
    checkpoint (handlers can only be set in the main thread; elsewhere nothing changes)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, lambda signum, _frame: note(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class Trainer(Reporting):
    """Trains one configuration into one run folder; ``run()`` returns the run folder's path."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        *,
        resume: bool = False,
        progress: bool | None = None,
        init_from: str | Path | None = None,
        replace: bool = False,
    ):
        """``init_from``: a run folder whose latest checkpoint gives the networks' first weights. ``replace``: the
        run already in ``run_dir`` is replaced, once this one is set up and about to write its configuration."""
        self.config = config
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.init_from = Path(init_from) if init_from is not None else None
        self.init_record: dict[str, Any] | None = None
        self.replace = replace
        self.world = init_world("cuda" if wants_cuda(config.device) else "cpu")
        self.device = pick_device(config.device, self.world)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.amp = config.amp if config.amp is not None else default_amp(self.device)
        # a captured step (CUDA graphs) is asked for, or on by default on CUDA; ``static`` is the step discipline a
        # graph needs (in-place gradients, device counters), which the warm-up and any fallback keep
        self.graphs = graphs.wanted(config.cuda_graphs, self.device)
        self.static = self.graphs
        self.stepper: Any = None  # what takes the steps (see advance); None: this trainer alone
        self.rates: rates.DeviceRates | None = None
        self.threads: cpu.Threads | None = None  # on the CPU: the threads chosen, said in the start line
        self.progress = progress

    # ----- set-up -----------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.config
        self.samples = load_data(cfg)
        self.sample_shape = self.samples.sample_shape
        self.num_classes = self._classes()  # a class-conditional run needs labelled data: said before anything else
        from ganzoo.plugins import registry
        from ganzoo.training.config import latent_dim_for

        cfg.latent_dim = latent_dim_for(cfg, self.sample_shape)
        self.loss = registry().get("loss", cfg.loss).obj.create(f"loss {cfg.loss!r}", **cfg.loss_options)
        n_critic = getattr(self.loss, "n_critic", 1)
        if not is_int(n_critic) or n_critic < 1:
            raise UsageError(
                f"loss {cfg.loss!r} has n_critic = {n_critic!r}; it must be an integer >= 1 "
                "(discriminator steps per generator step)"
            )
        self.n_critic = n_critic
        # what the step calls for each phase: the loss, with the class labels and terms of a conditional run
        self.phases = step_phases(self.loss, self.num_classes, cfg.aux_weight)

        auxiliary = bool(self.num_classes) and cfg.aux_weight > 0  # ACGAN: D also names the class
        torch.manual_seed(cfg.seed)
        G, D = build_networks(
            cfg.architecture,
            cfg.architecture_options,
            self.sample_shape,
            cfg.latent_dim,
            discriminator=cfg.pack == 1,
            num_classes=self.num_classes,
            auxiliary=auxiliary,
        )
        if cfg.pack > 1:  # PacGAN: D is built for packs of cfg.pack samples and gives one logit per pack
            from ganzoo.packing import packed_discriminator

            D = packed_discriminator(cfg.architecture, cfg.architecture_options, self.sample_shape, cfg.pack)
        # channels_last: measured no faster on the CPU; and torch.compile's convolution backward on CUDA failed a
        # size/stride assertion with it (torch 2.11), so compiled networks keep the default layout
        self.channels_last = self.device.type == "cuda" and len(self.sample_shape) == 3 and not cfg.compile
        memory = {"memory_format": torch.channels_last} if self.channels_last else {}
        self.G = G.to(self.device, **memory)
        self.D = D.to(self.device, **memory)
        # what D trains: a layer its plugin froze stays frozen when D's gradients are turned on and off below
        self.d_trained = [p for p in self.D.parameters() if p.requires_grad]
        if self.device.type == "cpu":  # torch's CPU threads: about one per free core, fewer for a small model
            self.threads = cpu.use(sum(p.numel() for net in (self.G, self.D) for p in net.parameters()))
        probe_networks(
            self.G,
            self.D,
            registry().get("architecture", cfg.architecture),
            sample_shape=self.sample_shape,
            latent_dim=cfg.latent_dim,
            kind=self.samples.kind,
            num_classes=self.num_classes,
            auxiliary=auxiliary,
            pack=cfg.pack,
        )
        broadcast_module(self.G, self.world)
        broadcast_module(self.D, self.world)
        self.ema = EMA(self.G, cfg.ema) if cfg.ema else None
        if self.graphs:
            cause = graphs.problem(self)
            if cause is not None:
                if self.world.is_main:
                    graphs.warn(cause)
                self.graphs = self.static = False
        capturable = self.static and self.device.type == "cuda"  # (torch's optimisers capture on CUDA only)
        if self.static and cfg.lr_decay != "none":  # the static step reads decaying rates from device tensors
            cause = rates.probe(
                lambda params, rate: make_optimizer(cfg, params, rate, self.device, capturable), self.device
            )
            if cause is not None:
                if self.graphs and self.world.is_main:
                    graphs.warn(f"the learning rates change every step (lr_decay={cfg.lr_decay}) and {cause}")
                self.graphs = self.static = False
                capturable = False
        # with a static step, a decaying rate lives on the device and is rewritten in place before each step
        if self.static and cfg.lr_decay != "none":
            self.rates = rates.DeviceRates((cfg.lr_g, cfg.lr_d), self.device)
        lr_g, lr_d = self.rates.tensors if self.rates is not None else (cfg.lr_g, cfg.lr_d)
        fused = bool(self.amp)  # (fp32 CPU steps keep the kernels the zoo was built with: make_optimizer)
        self.opt_g = make_optimizer(cfg, self.G.parameters(), lr_g, self.device, capturable, fused)
        self.opt_d = make_optimizer(cfg, self.D.parameters(), lr_d, self.device, capturable, fused)
        # the history row the next step writes, on the device (a captured step cannot take it from Python)
        self.row = torch.zeros(1, dtype=torch.long, device=self.device)
        self.G_run, self.D_run = self.G, self.D
        # real and fake go through D in one batch only when the architecture declares its D per-sample AND no
        # batch-norm layer is there to see it (a discriminator's batch statistics are never guessed)
        declared = (
            getattr(registry().get("architecture", cfg.architecture).obj, "joint_discriminator_batch", False) is True
        )
        batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.D.modules())
        self.d_per_sample = declared and not batch_norm
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.set_float32_matmul_precision("high")  # TF32 matmuls: fp32 GAN training does not need more
        if cfg.compile:
            self.G_run = torch.compile(self.G)
            self.D_run = torch.compile(self.D)
        self.data = self.samples.data.to(self.device)
        if self.channels_last:
            self.data = self.data.contiguous(memory_format=torch.channels_last)
        self.labels = self.samples.labels.to(self.device).long() if self.num_classes else None
        count = SAMPLE_COUNT if len(self.sample_shape) > 1 else 2000
        if self.num_classes and len(self.sample_shape) > 1 and self.num_classes <= 16:
            count = 8 * self.num_classes  # a row of eight per class
        self.fixed_noise = noise(count, cfg.latent_dim, cfg.seed + 7919, self.device)
        self.fixed_labels = (
            (torch.arange(count, device=self.device) // 8 % self.num_classes) if self.num_classes else None
        )
        self.step = 0
        self.elapsed = 0.0
        torch.manual_seed(cfg.seed * 1_000_003 + 1 + self.world.rank)

    def _classes(self) -> int:
        """The number of classes a class-conditional run's networks take (0 for others), checked against its data."""
        cfg = self.config
        if not cfg.conditional:
            return 0
        found = self.samples.num_classes or 0
        if self.samples.labels is None or found < 2:
            raise UsageError(
                f"variant {cfg.variant!r} is class-conditional and needs a data set with class labels; {cfg.data!r} "
                f"has none (train it on digits, mnist, fashion-mnist, cifar10, "
                f"or folder:PATH holding one subfolder per class)"
            )
        if cfg.pack > 1:
            raise UsageError(
                "packing (pack > 1) and a class-conditional discriminator do not combine yet; drop --set pack"
            )
        return int(found)

    def prepare_run_dir(self) -> None:
        """Write config.json (after checking the folder is ours to write); with ``replace``, the old run's files
        are set aside first and deleted only once the new config.json is written (put back on any failure)."""
        if not self.world.is_main:
            return
        from ganzoo.training.rundir import discard, put_back, set_aside

        info: dict[str, Any] = {
            "ganzoo_run": 1,
            "config": self.config.as_dict(),
            "sample_shape": list(self.sample_shape),
            "data_kind": self.samples.kind,
            "device": str(self.device),
            "world_size": self.world.size,
            "amp": self.amp,
            "versions": versions(),
            "architecture_plugin": provenance("architecture", self.config.architecture),
        }
        if self.num_classes:
            names = self.samples.info.get("class_names") or [str(c) for c in range(self.num_classes)]
            info.update(num_classes=self.num_classes, class_names=[str(n) for n in names])
        if self.init_record is not None:  # where a fork's first weights came from (kept when it is resumed)
            info["init_from"] = self.init_record
        aside = None
        try:
            try:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                if self.replace:
                    aside = set_aside(self.run_dir)
                (self.run_dir / "samples").mkdir(exist_ok=True)
                probe = self.run_dir / ".ganzoo-write-test"
                probe.write_bytes(b"")
                probe.unlink()
                write_json(self.run_dir / "config.json", info)
            except OSError as exc:
                raise GanzooError(f"cannot write the run folder {self.run_dir}: {exc.strerror or exc}") from None
        except BaseException:
            if aside is not None:
                put_back(self.run_dir, aside)
            raise
        discard(aside)

    def _load_networks(self, tensors: dict[str, dict[str, torch.Tensor]]) -> None:
        """Generator, discriminator and EMA weights from a checkpoint's tensors (the EMA falls back to the
        generator)."""
        self.G.load_state_dict(tensors["generator"])
        self.D.load_state_dict(tensors["discriminator"])
        if self.ema:
            self.ema.module.load_state_dict(tensors.get("generator_ema", tensors["generator"]))

    def initialize_from(self, source: Path) -> None:
        """Load the generator, discriminator and EMA weights of ``source``'s latest good checkpoint (a fork)."""
        ckpt = latest_checkpoint(
            source,
            map_location="cpu",
            quiet=not self.world.is_main,
            only=("generator", "generator_ema", "discriminator"),
        )
        if ckpt is None:
            raise GanzooError(
                f"--init-from {source}: the run has no checkpoint yet, so there are no weights to start from"
            )
        t = ckpt.tensors
        try:
            self._load_networks(t)
        except (KeyError, RuntimeError, ValueError) as exc:
            raise UsageError(
                f"--init-from {source}: its checkpoint step {ckpt.step} "
                "does not fit the networks of this configuration "
                f"({one_line(exc, 400)}); keep that run's architecture, its options and latent_dim"
            ) from None
        self.init_record = {"path": str(source.resolve()), "step": ckpt.step}
        if self.ema:
            self.ema.step_offset = ckpt.step  # the weights are trained already: no warm-up from scratch

    # ----- checkpoints -----------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        rng = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        rng_tensors: dict[str, torch.Tensor] = {}
        for key, state in rng.items():
            for rank, gathered in enumerate(all_gather_bytes(state, self.world)):
                rng_tensors[f"{key}.{rank}"] = gathered
        tensors: dict[str, dict[str, torch.Tensor]] = {
            "generator": dict(self.G.state_dict()),
            "discriminator": dict(self.D.state_dict()),
            "rng": rng_tensors,
        }
        if self.ema:
            tensors["generator_ema"] = dict(self.ema.module.state_dict())
        extra: dict[str, Any] = {"elapsed": self.elapsed, "world_size": self.world.size}
        for name, opt in (("optimizer_g", self.opt_g), ("optimizer_d", self.opt_d)):
            opt_tensors, plain = optimizer_tensors(opt.state_dict())
            tensors[name] = opt_tensors
            extra[name] = plain
        return Checkpoint(step=self.step, tensors=tensors, extra=extra)

    def save(self) -> None:
        ckpt = self.checkpoint()  # every rank takes part (RNG gather)
        if self.world.is_main:
            save_checkpoint(self.run_dir, ckpt, self.config.keep)

    def restore(self) -> None:
        ckpt = latest_checkpoint(self.run_dir, map_location="cpu", quiet=not self.world.is_main)
        if ckpt is None:
            raise GanzooError(
                f"--resume {self.run_dir}: the run stopped before its first checkpoint, so there is nothing to resume; "
                f"start it over instead: the same `ganzoo train` command with --out {self.run_dir} --force"
            )
        t = ckpt.tensors
        try:
            self._load_networks(t)
            self.opt_g.load_state_dict(optimizer_state(t["optimizer_g"], ckpt.extra["optimizer_g"]))
            self.opt_d.load_state_dict(optimizer_state(t["optimizer_d"], ckpt.extra["optimizer_d"]))
            if self.rates is not None:  # (loading put the stored numbers where the rate tensors were)
                self.rates.install((self.opt_g, self.opt_d))
            elapsed = float(ckpt.extra.get("elapsed", 0.0))
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as exc:
            raise GanzooError(
                f"checkpoint step {ckpt.step} in {self.run_dir} does not fit this configuration: {one_line(exc, 400)}"
            ) from None
        rank = self.world.rank
        rng = t.get("rng", {})
        if ckpt.extra.get("world_size", 1) == self.world.size and f"cpu.{rank}" in rng:
            torch.set_rng_state(rng[f"cpu.{rank}"])
            if self.device.type == "cuda" and f"cuda.{rank}" in rng:
                torch.cuda.set_rng_state(rng[f"cuda.{rank}"], self.device)
        else:
            torch.manual_seed(self.config.seed * 1_000_003 + 7 * ckpt.step + 1 + rank)
        self.step = ckpt.step
        self.elapsed = elapsed
        from ganzoo.training.rundir import read_run_config

        stored = read_run_config(self.run_dir)
        length = stored["config"].get("steps")
        if self.config.lr_decay != "none" and length != self.config.steps:
            raise UsageError(
                f"--resume {self.run_dir}: its learning rates decay to 0 over its {length} steps (lr_decay="
                f"{self.config.lr_decay}), so it cannot go on to {self.config.steps}; resume it with --steps "
                f"{length}, or start a new run from its weights: --init-from {self.run_dir} --out NEW"
            )
        self.init_record = stored.get("init_from")
        if self.init_record is not None and self.ema:
            self.ema.step_offset = self.init_record["step"]

    # ----- the step ----------------------------------------------------------------
    def draw_batch(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch drawn by index on the device, with its class labels for a class-conditional run."""
        index = torch.randint(self.data.shape[0], (self.config.batch_size,), device=self.device)
        return to_model_range(self.data[index]), (self.labels[index] if self.labels is not None else None)

    def draw_noise(self) -> torch.Tensor:
        """A batch of the generator's input noise."""
        return torch.randn(self.config.batch_size, self.config.latent_dim, device=self.device)

    def autocast(self):
        """The step's mixed precision (bf16 autocast with ``amp``), or nothing."""
        if not self.amp:
            return nullcontext()
        # a captured step must not keep autocast's weight-cast cache (it would outlive the capture)
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, cache_enabled=not self.static)

    def train_step(self, history: torch.Tensor) -> None:
        """One training step: ``n_critic`` discriminator steps (each the discriminator phase, then the regulariser
        phase), then one generator step; the phases are ``self.phases``' (the loss's, with the conditioning's labels
        and terms). Its losses go into ``history`` at row ``self.row`` (on the device), which then moves on by one.
        Reads nothing back to the host, so with ``self.static`` it can be captured in a CUDA graph."""
        G, D, phases = self.G_run, self.D_run, self.phases
        reuse_fake = self.n_critic == 1
        to_none = not self.static  # a captured backward writes into the same gradient tensors on every replay
        for p in self.d_trained:
            p.requires_grad_(True)
        fake = None
        reg_value = torch.zeros((), device=self.device)
        y = None  # a class-conditional run's labels: the real batch's, which its fakes are asked for too
        for _ in range(self.n_critic):
            real, y = self.draw_batch()
            z = self.draw_noise()
            with self.autocast():
                if reuse_fake:
                    fake = phases.generate(G, z, y)
                    fake_d = fake.detach()
                else:
                    with torch.no_grad():
                        fake_d = phases.generate(G, z, y)
                loss_d, real_logits, fake_logits = phases.discriminator(D, real, fake_d, y, joint=self.d_per_sample)
            reg = phases.regularizer(self.D, real, fake_d, y)
            total = loss_d if reg is None else loss_d + reg
            self.opt_d.zero_grad(set_to_none=to_none)
            total.backward()
            all_reduce_gradients(self.D, self.world)
            self.opt_d.step()
            phases.after_discriminator_step(self.D)
            if reg is not None:
                reg_value = reg.detach()

        for p in self.d_trained:
            p.requires_grad_(False)
        with self.autocast():
            if fake is None:
                z = self.draw_noise()
                fake = phases.generate(G, z, y)
            loss_g = phases.generator(D, fake, y)
        self.opt_g.zero_grad(set_to_none=to_none)
        loss_g.backward()
        all_reduce_gradients(self.G, self.world)
        self.opt_g.step()
        if self.ema:
            if self.static:
                self.ema.update_counted()
            else:
                self.ema.update(self.step)
        self.record(history, loss_d, loss_g, reg_value, real_logits, fake_logits)

    def record(
        self,
        history: torch.Tensor,
        loss_d: torch.Tensor,
        loss_g: torch.Tensor,
        reg: torch.Tensor,
        real_logits: torch.Tensor,
        fake_logits: torch.Tensor,
    ) -> None:
        """Write one step's losses and mean logits into ``history`` at row ``self.row`` (on the device), then move
        the row on by one."""
        values = [
            loss_d.detach(),
            loss_g.detach(),
            reg,
            real_logits.detach().float().mean(),
            fake_logits.detach().float().mean(),
        ]
        history.index_copy_(0, self.row, torch.stack(values).unsqueeze(0).to(history.dtype))
        self.row.add_(1)

    def set_learning_rates(self) -> None:
        """``lr_decay=linear``: the next step's rates, ``lr * (1 - step / steps)`` (so a resumed run keeps the
        schedule); with a static step, written in place into the rate tensors the (captured) step reads."""
        cfg = self.config
        if self.rates is not None:
            self.rates.set(self.step, cfg.steps, cfg.lr_decay)
            return
        for optimizer, rate in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
            # (one parameter group each: make_optimizer's)
            optimizer.param_groups[0]["lr"] = rates.scheduled(rate, self.step, cfg.steps, cfg.lr_decay)

    def grad_norms(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The gradient norms of the last step: D's from its last critic step, G's (D's gradients are left alone
        by the generator step, so both can be read after it)."""
        return grad_norm(self.D), grad_norm(self.G)

    # ----- stepping: what a run alone, and a group of runs taking turns, drive -----------------------------
    def advance(self) -> None:
        """One step into ``self.history``: by the shared stepper when one was given (``share_step``), else captured
        and replayed when CUDA graphs are on, else eagerly."""
        if self.stepper is None and self.graphs:
            self.stepper = graphs.CapturedStep(self)
        if self.stepper is None:
            self.train_step(self.history)
        else:
            self.stepper(self.history)

    def share_step(self, stepper: Any, stream: Any = None) -> None:
        """From now on ``stepper(history)`` takes this run's steps: one that several runs share (one CUDA graph for
        a group, or the stacked step of several seeds) runs everyone's step on the first call of a round. ``stream``:
        the CUDA stream this run's turns use (the stepper's)."""
        self.stepper = stepper
        if stream is not None:
            self.stream = stream
            stream.wait_stream(torch.cuda.current_stream(self.device))
        self.begin_steps()

    own_rng: torch.Tensor | None = None  # the CPU random state between turns, once the run keeps its own
    stream: Any = None  # the CUDA stream of the run's turns, once it keeps its own
    in_turn = False

    def keep_own_randomness(self) -> None:
        """Take turns with other runs from now on: the run keeps its own CPU random state between its turns (on
        CUDA, its own stream), so that its draws are the ones it would make alone."""
        self.own_rng = torch.get_rng_state()
        if self.device.type == "cuda":
            self.stream = torch.cuda.Stream(self.device)
            self.stream.wait_stream(torch.cuda.current_stream(self.device))

    @contextmanager
    def turn(self) -> Iterator[None]:
        """One turn of this run (a step, or its share of a stacked step): its own random state (a CUDA run: its own
        stream, as its steps draw from the device's generator), put back as it was on leaving. Re-entrant: inside
        its own turn, a turn changes nothing."""
        if self.in_turn or (self.own_rng is None and self.stream is None):
            yield
            return
        self.in_turn = True
        try:
            if self.device.type == "cuda":
                with torch.cuda.stream(self.stream):
                    yield
                return
            outer = torch.get_rng_state()
            torch.set_rng_state(self.own_rng)
            try:
                yield
            finally:
                self.own_rng = torch.get_rng_state()
                torch.set_rng_state(outer)
        finally:
            self.in_turn = False

    def request_stop(self, signum: int) -> None:
        """Stop after the next step, once its checkpoint is written (a SIGINT or SIGTERM)."""
        self.stop_signal = signum

    stop_signal: int | None = None

    def _signals(self):
        return stop_signals(self.request_stop)

    # ----- the loop ------------------------------------------------------------------
    def run(self) -> Path:
        try:
            with self.writing():
                start = self.prepare()
                if start is None:
                    return self.run_dir
                self.open_run_dir(start)
                with self._signals():
                    for _ in self.stepping(start):
                        pass
                self.finish(start)
            return self.run_dir
        finally:
            close_world(self.world)

    def writing(self):
        """A block whose full disk (or failing one) ends in one line that says how to go on once there is room."""
        return writing(hint=self.after_disk_error)

    def after_disk_error(self) -> str:
        """What to do after a failed write, once there is room: resume from the last good checkpoint, if any."""
        if list_checkpoints(self.run_dir):
            return f"resume with --resume {self.run_dir}"
        return f"start the run over: the same command with --out {self.run_dir} --force"

    def prepare(self) -> int | None:
        """Everything that can refuse (data, networks, the checkpoint to start from), before anything is written, so
        a refused run leaves the folder as it was; the step training starts from, or None when it has nothing to do."""
        self.setup()
        if self.init_from is not None:
            self.initialize_from(self.init_from)
        if self.resume:
            self.restore()
        if self.step >= self.config.steps:
            self._say(
                f"run {self.run_dir} is already at step {self.step} of {self.config.steps}; nothing to do "
                "(raise --steps to go on)"
            )
            return None
        return self.step

    def open_run_dir(self, start: int) -> None:
        """Write the run's config.json (replacing the old run with ``replace``); a resumed run's log loses the lines
        written after its checkpoint."""
        self.prepare_run_dir()
        if self.resume and self.world.is_main:
            self._trim_metrics(start)

    history: torch.Tensor | None = None  # the per-step loss record between log flushes

    def begin_steps(self) -> None:
        """What the first step needs: the loss record, and the EMA's device step counter (once, however often
        called: the runs of a group that share one CUDA graph are begun together)."""
        if self.history is not None:
            return
        self.history = torch.zeros(self.config.log_every, len(COLUMNS), device=self.device)
        if self.static and self.ema:
            self.ema.start_count(self.step)

    def stepping(self, start: int) -> Iterator[int]:
        """Train from ``start`` to the configured steps, yielding the step count after each step (logging, samples,
        checkpoints and signals handled between steps); several trainers take turns this way, each ``next`` inside
        its ``turn()``."""
        cfg = self.config
        log = self._open_log()
        self.begin_steps()
        history = self.history
        self._say(self._start_line(start))
        self.began = (start, time.perf_counter(), self.elapsed)
        bar = self._bar(start)
        row = 0
        window_start = time.perf_counter()
        last_plain = window_start
        window_steps = 0
        # without a bar: a plain line every ~5 % of the run, and at a flush 30 s or more after the last one
        plain_every = max(cfg.log_every, math.ceil(cfg.steps / 20 / cfg.log_every) * cfg.log_every)
        last_values: dict[str, float] = {}
        try:
            while self.step < cfg.steps:
                flush_now = (self.step + 1) % cfg.log_every == 0 or self.step + 1 == cfg.steps
                due_ckpt = (self.step + 1) % cfg.ckpt_every == 0 or self.step + 1 == cfg.steps
                if cfg.lr_decay != "none":
                    self.set_learning_rates()
                self.advance()
                norms = self.grad_norms() if flush_now else None
                self.step += 1
                row += 1
                window_steps += 1
                stopping = self.stop_signal is not None and not self.world.distributed
                if flush_now or due_ckpt or stopping:
                    if self.world.distributed:
                        stopping = any_rank(self.stop_signal is not None, self.world, self.device)
                    now = time.perf_counter()
                    values = self._flush(history[:row], norms, window_steps, now - window_start)
                    self.row.zero_()
                    self.elapsed += now - window_start
                    last_values = values
                    if self.world.is_main:
                        log.write(json.dumps(values) + "\n")
                        log.flush()
                        self._tensorboard(values)
                        if bar is not None:
                            bar.update(window_steps)
                            bar.set_postfix(self._postfix(values), refresh=False)
                        elif (
                            self.step % plain_every == 0 or self.step == cfg.steps or now - last_plain >= PLAIN_SECONDS
                        ):
                            self._say(self._plain_line(values))
                            last_plain = now
                    row, window_steps = 0, 0
                    if due_ckpt or stopping:
                        if self.step % cfg.sample_every == 0 or self.step == cfg.steps or stopping:
                            if self.world.is_main:
                                self.write_samples()
                        self.save()
                    elif self.step % cfg.sample_every == 0 and self.world.is_main:
                        self.write_samples()
                    window_start = time.perf_counter()
                    if stopping:
                        raise Stopped(self.stop_signal or signal.SIGTERM)
                elif self.step % cfg.sample_every == 0 and self.world.is_main:
                    self.write_samples()
                yield self.step
        finally:
            if bar is not None:
                bar.close()
            log.close()
            self.last_values = last_values

    def _flush(self, rows: torch.Tensor, norms: Any, steps: int, seconds: float) -> dict[str, float]:
        """Read the window's history from the device (the only host sync), check it is finite, summarise it."""
        values = rows.detach().float().cpu()
        bad = ~torch.isfinite(values)
        if bad.any():
            first_row, column = (int(i) for i in bad.nonzero()[0])
            step = self.step - rows.shape[0] + first_row + 1
            good = list_checkpoints(self.run_dir)
            keep = f"; the last good checkpoint is {good[0]}" if good else "; no checkpoint was written yet"
            raise NonFiniteLoss(
                f"non-finite {COLUMNS[column]} ({values[first_row, column].item()}) at step {step}; "
                f"training stopped{keep} "
                f"(try a lower learning rate, or --no-amp)"
            )
        summary = {"step": self.step}
        summary.update({name: round(float(v), 6) for name, v in zip(COLUMNS, values.mean(0))})
        if norms is not None:
            summary["grad_norm_d"] = round(float(norms[0]), 6)
            summary["grad_norm_g"] = round(float(norms[1]), 6)
        summary["img_s"] = round(steps * self.config.batch_size * self.world.size / max(seconds, 1e-9), 1)
        summary["time"] = round(self.elapsed + seconds, 3)
        return summary
