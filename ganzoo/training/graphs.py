"""Captured training steps: the trainer's whole step recorded once in a CUDA graph and replayed.

A GAN step on a small model is a few hundred tiny kernels; launched one by one from Python the GPU waits on
the host. Captured, one ``replay()`` launches them all. What the step may do to be captured (the trainer's
"static" step, which is also what runs eagerly during warm-up and on any device in the tests):

- shapes never change: batches are drawn by index on the device, noise is drawn on the device from the
  default generator (which CUDA graphs advance on every replay);
- nothing reads a value back to the host: the per-step losses go into a device history at a device row
  counter, the EMA decay is computed on the device from a device step counter, the optimisers keep their step
  counts on the device (``capturable=True``);
- a learning rate that changes (``lr_decay``) is a tensor on the device the optimiser reads, rewritten in place
  before each replay (``rates.DeviceRates``);
- gradients are zeroed in place (the captured backward writes into the same tensors on every replay).

Anything that breaks those rules (a plugin module that syncs, say) makes the capture fail; the trainer then
trains eagerly, after one warning line naming the cause.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import torch

from ganzoo.errors import GanzooError, UsageError, one_line

if TYPE_CHECKING:
    from ganzoo.training.loop import Trainer

WARMUP_STEPS = 3  # eager steps on a side stream before the capture (lazy initialisation, cuDNN autotuning, compiling)


def wanted(requested: bool | None, device: torch.device) -> bool:
    """Whether to capture: ``--cuda-graphs`` on a device that is not CUDA is a UsageError; unset means "on CUDA"."""
    if requested and device.type != "cuda":
        raise UsageError(
            f"--cuda-graphs needs a CUDA device, and this run trains on {device.type}; drop --cuda-graphs "
            "(or train with --device cuda)"
        )
    return device.type == "cuda" if requested is None else bool(requested)


def problem(trainer: Trainer) -> str | None:
    """Why the trainer's step cannot be captured, although graphs were asked for; None when it can be tried."""
    if trainer.world.distributed:
        return f"the {trainer.world.size} processes all-reduce their gradients inside the step"
    if not hasattr(torch.cuda, "graph"):
        return f"torch {torch.__version__} has no torch.cuda.graph"
    return None


def warn(cause: str) -> None:
    print(
        f"ganzoo: warning: CUDA graphs off: {cause}; training eagerly (slower); --no-cuda-graphs silences this",
        file=sys.stderr,
        flush=True,
    )


class CapturedStep:
    """Runs the trainer's static step: eagerly on a side stream for the warm-up, then captured and replayed."""

    def __init__(self, trainer: Trainer, warmup: int = WARMUP_STEPS) -> None:
        self.trainer = trainer
        self.warmup = warmup
        self.done = 0
        self.graph: Any = None
        self.failed: str | None = None
        self.stream = torch.cuda.Stream(trainer.device)

    def __call__(self, history: torch.Tensor) -> None:
        if self.graph is not None:
            self.graph.replay()
            return
        if self.failed is not None or self.done < self.warmup:
            self._eager(history)
            return
        self._capture(history)
        if self.graph is not None:
            self.graph.replay()
        else:
            self._eager(history)

    def _eager(self, history: torch.Tensor) -> None:
        main = torch.cuda.current_stream(self.trainer.device)
        self.stream.wait_stream(main)
        with torch.cuda.stream(self.stream):
            self.trainer.train_step(history)
        main.wait_stream(self.stream)
        self.done += 1

    def _capture(self, history: torch.Tensor) -> None:
        self.graph, self.failed = capture(lambda: self.trainer.train_step(history), self.trainer.device, "step")

    @property
    def captured(self) -> bool:
        return self.graph is not None


def capture(work: Any, device: torch.device, what: str) -> tuple[Any, str | None]:
    """``(graph, None)`` with ``work()`` captured in a CUDA graph, or ``(None, cause)`` after one warning line when it
    cannot be (whatever the work did that a graph cannot hold), the device made usable again for eager steps."""
    graph = torch.cuda.CUDAGraph()
    stream = torch.cuda.current_stream(device)
    try:
        with torch.cuda.graph(graph):
            work()
    except Exception as exc:
        cause = f"the {what} could not be captured ({one_line(root_cause(exc), 240)})"
        try:
            recover(device, stream)
        except Exception as after:
            raise GanzooError(
                f"capturing the training {what} in a CUDA graph failed and left the device unusable "
                f"({one_line(after, 200)}); train with --no-cuda-graphs"
            ) from None
        warn(cause)
        return None, cause
    return graph, None


def root_cause(exc: BaseException) -> BaseException:
    """The first error of a chain: a failed capture's own error hides what the step did (a host read, say)."""
    seen = {id(exc)}
    while exc.__context__ is not None and id(exc.__context__) not in seen:
        exc = exc.__context__
        seen.add(id(exc))
    return exc


def recover(device: torch.device, stream: Any) -> None:
    """Undo what a capture that ended in an error leaves behind, so the step can run eagerly: the capture's stream
    stays current, and the default generator is left expecting more captured offsets. Then check the device
    answers (a random draw and a sync)."""
    torch.cuda.set_stream(stream)
    generator = torch.cuda.default_generators[device.index if device.index is not None else torch.cuda.current_device()]
    if hasattr(generator, "graphsafe_set_state"):  # a fresh copy of its state: same seed and offset, not capturing
        generator.graphsafe_set_state(generator.clone_state())
    torch.randint(2, (1,), device=device)
    torch.cuda.synchronize(device)


class SharedStep:
    """The steps of several trainers (a group of seeds) captured together in one CUDA graph, as parallel branches
    forked from one stream: one replay steps every run, and the GPU runs the branches side by side.

    The trainers take turns as usual; the first one's turn runs the whole round (eagerly on the branch streams
    during the warm-up, then the replay), the others' turns find their step done. So the trainers must step in
    lockstep: the same first step and the same last (``Group`` checks this before sharing a graph).
    """

    def __init__(self, trainers: list[Trainer], warmup: int = WARMUP_STEPS) -> None:
        self.trainers = trainers
        self.warmup = warmup
        self.rounds = 0  # rounds run: every trainer stepped once
        self.graph: Any = None
        self.failed: str | None = None
        device = trainers[0].device
        self.stream = torch.cuda.Stream(device)  # every trainer's stream between replays
        self.branches = [torch.cuda.Stream(device) for _ in trainers]

    def member(self, index: int) -> Member:
        return Member(self, index)

    def round(self) -> None:
        # the first trainer's turn steps them all, so every trainer's rates for this step are written first (the
        # others write the same again in their own turns); the trainers are in lockstep, at the same step
        for trainer in self.trainers:
            if trainer.config.lr_decay != "none":
                trainer.set_learning_rates()
        self.rounds += 1
        if self.graph is not None:
            self.graph.replay()
            return
        if self.failed is None and self.rounds > self.warmup:
            self._capture()
            if self.graph is not None:
                self.graph.replay()
                return
        self._branches()

    def _branches(self) -> None:
        """Every trainer's step on its own branch stream, forked from and joined back to the current stream."""
        main = torch.cuda.current_stream(self.trainers[0].device)
        for branch in self.branches:
            branch.wait_stream(main)
        for trainer, branch in zip(self.trainers, self.branches):
            with torch.cuda.stream(branch):
                trainer.train_step(trainer.history)
        for branch in self.branches:
            main.wait_stream(branch)

    def _capture(self) -> None:
        self.graph, self.failed = capture(self._branches, self.trainers[0].device, "steps")


class Member:
    """One trainer's view of a SharedStep: the first of the trainers to ask for its next step runs the round (every
    trainer's step); the others find theirs done. (The first, not trainer 0: a run that failed stops asking.)"""

    def __init__(self, shared: SharedStep, index: int) -> None:
        self.shared = shared
        self.index = index
        self.calls = 0

    def __call__(self, history: torch.Tensor) -> None:
        self.calls += 1
        if self.shared.rounds < self.calls:
            self.shared.round()

    @property
    def captured(self) -> bool:
        return self.shared.graph is not None
