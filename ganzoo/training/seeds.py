"""Several runs trained in one process: K seeds of one configuration, say, stacked into one batched step where the
recipe allows, else taking turns step by step.

Stacked (``ganzoo.training.stack``), the seeds' weights are one tensor per layer and every layer runs once for all
seeds; a seed is the seed trained alone up to float order (the same noise and data order). Where a recipe cannot be
stacked (a regulariser such as a gradient penalty, dropout, spectral norm, class labels, --compile, CUDA graphs),
the runs take turns and one line says why; ``stacking(True)`` (``--stack``) refuses instead, ``stacking(False)``
(``--no-stack``) always takes turns.

Taking turns on CUDA, runs in lockstep (the same first and last step) are captured together in one CUDA graph as
parallel branches, so one replay steps them all side by side; other runs each replay their own graph on their own
stream. On the CPU each run keeps its own random state between turns, so a run trained with others is bit for bit
the run trained alone. On CUDA the runs draw from the device's one generator in turn, so a run is statistically the
same as the run trained alone, not bitwise.

Either way each run keeps its own run folder, log, samples and checkpoints, and resumes on its own (``ganzoo train
--resume OUT/seedN``). A group drives its trainers through their public stepping interface only (``prepare``,
``keep_own_randomness``, ``share_step``, ``turn``, ``stepping``, ``request_stop``, ``finish``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ganzoo.errors import GanzooError, UsageError
from ganzoo.files import DiskWriteError
from ganzoo.training.distributed import close_world
from ganzoo.training.graphs import SharedStep
from ganzoo.training.loop import Stopped, Trainer, stop_signals
from ganzoo.training.rundir import read_train_config
from ganzoo.training.stack import Stack, stack_problem

if TYPE_CHECKING:
    from ganzoo.training.config import TrainConfig

MAX_RUNS = 64  # runs one process trains together
# Whether groups made inside ``stacking(policy)`` stack their runs: None when they can (else they take turns and
# say why in one line), True to insist (a refusal, when they cannot), False never.
STACKING: ContextVar[bool | None] = ContextVar("stacking", default=None)


@contextmanager
def stacking(policy: bool | None) -> Iterator[None]:
    """Inside, groups of runs stack by ``policy``: None when they can, True or refuse, False never."""
    token = STACKING.set(policy)
    try:
        yield
    finally:
        STACKING.reset(token)


class Group:
    """Trains ``trainers`` (new runs, or resumed ones) in turns; ``run()`` returns their run folders."""

    def __init__(self, trainers: list[Trainer], labels: list[str] | None = None) -> None:
        if not 1 <= len(trainers) <= MAX_RUNS:
            raise GanzooError(f"one process trains 1 to {MAX_RUNS} runs together, got {len(trainers)}")
        self.trainers = trainers
        self.labels = labels or [str(t.run_dir) for t in trainers]
        for trainer in trainers[1:]:
            trainer.quiet = True  # one run speaks for the group while it trains
        self._signal: int | None = None
        self.stacked = False  # the runs train as one stack (set when they are prepared)
        self.failures: dict[int, GanzooError] = {}  # index of a run that failed -> why (the others trained on)

    def run(self) -> list[Path]:
        try:
            starts = self._prepare()
            for trainer, start in zip(self.trainers, starts):
                if start is not None:
                    with trainer.writing():
                        trainer.open_run_dir(start)
            turns = [(t, t.stepping(start), start) for t, start in zip(self.trainers, starts) if start is not None]
            if len(turns) > 1:
                how = "stacked into one batched step" if self.stacked else "taking turns step by step"
                print(
                    f"training {len(turns)} runs together in one process, {how}; the lines below are "
                    f"{self.labels[self.trainers.index(turns[0][0])]}'s",
                    flush=True,
                )
            stopped: Stopped | None = None
            failures: list[tuple[int, GanzooError]] = []
            with self._signals():
                active = list(turns)
                while active:
                    for turn in list(active):
                        trainer, steps, _ = turn
                        try:
                            if self._signal is not None:
                                trainer.request_stop(self._signal)
                            with trainer.turn(), trainer.writing():
                                if next(steps, None) is None:
                                    active.remove(turn)
                        except Stopped as stop:  # each run writes its checkpoint at its next step, then stops
                            active.remove(turn)
                            stopped = stop
                        except DiskWriteError:  # the disk the runs share is full (or failing): all stop here
                            raise
                        except GanzooError as exc:  # one run failing (NaN losses, say) leaves the others training
                            active.remove(turn)
                            failures.append((self.trainers.index(trainer), exc))
                            self.failures[failures[-1][0]] = exc
            failed = {index for index, _ in failures}
            for trainer, _, start in turns:
                trainer.quiet = True  # the caller says where each run is
                if self.trainers.index(trainer) not in failed:
                    trainer.finish(start)
            if stopped is not None:
                raise stopped
            if failures:
                index, exc = failures[0]
                more = f" ({len(failures) - 1} more run(s) failed too)" if len(failures) > 1 else ""
                raise GanzooError(f"{self.labels[index]}: {exc}{more}; the other runs finished")
            return [t.run_dir for t in self.trainers]
        finally:
            for trainer in self.trainers:
                close_world(trainer.world)

    def _prepare(self) -> list[int | None]:
        """Set up every run before any writes: a group that does not fit in memory leaves no folder behind."""
        starts: list[int | None] = []
        for index, trainer in enumerate(self.trainers):
            try:
                starts.append(trainer.prepare())
            except torch.cuda.OutOfMemoryError:
                raise GanzooError(
                    f"{len(self.trainers)} runs do not fit in the memory of {trainer.device} together (the "
                    f"{index + 1}. ran out); train fewer seeds at once"
                ) from None
            trainer.keep_own_randomness()
        if self._stacked(starts):
            return starts
        if self._lockstep(starts):  # one CUDA graph for all: one replay a round, the runs as parallel branches
            shared = SharedStep(self.trainers)
            for index, trainer in enumerate(self.trainers):
                trainer.share_step(shared.member(index), shared.stream)
        return starts

    def _stacked(self, starts: list[int | None]) -> bool:
        """Stack the runs into one batched computation when they can be (and stacking is not turned off); say why
        not in one line when they cannot, or refuse when stacking was asked for (``stacking(True)``)."""
        policy = STACKING.get()
        if policy is False or len(self.trainers) < 2:
            return False
        cause = stack_problem(self.trainers, starts)
        if cause is not None:
            if policy:
                raise UsageError(f"--stack: these {len(self.trainers)} runs cannot be stacked: {cause}")
            print(
                f"ganzoo: the {len(self.trainers)} runs take turns step by step, not stacked: {cause}",
                file=sys.stderr,
                flush=True,
            )
            return False
        stack = Stack(self.trainers)
        for index, trainer in enumerate(self.trainers):
            trainer.share_step(stack.member(index), stack.stream)
        self.stacked = True
        return True

    def _lockstep(self, starts: list[int | None]) -> bool:
        """Whether the runs can share one CUDA graph: all captured on one device, from the same step to the same."""
        first = self.trainers[0]
        return (
            len(self.trainers) > 1
            and all(t.graphs and t.device == first.device for t in self.trainers)
            and len(set(starts)) == 1
            and starts[0] is not None
            and len({t.config.steps for t in self.trainers}) == 1
        )

    def _signals(self):
        return stop_signals(lambda signum: setattr(self, "_signal", signum))


def train_together(
    entries: list[tuple[TrainConfig, Path, str]], progress: bool | None = False
) -> dict[int, GanzooError]:
    """Train ``(config, run_dir, mode)`` entries together, mode ``new``, ``restart`` (replace the run there) or
    ``resume`` (continue it to ``config.steps`` with ``config``'s device); returns the runs that failed, by index
    (NaN losses, say: the others trained on). What stops the whole group (no memory for it) raises."""
    trainers = []
    for index, (config, run_dir, mode) in enumerate(entries):
        if mode == "resume":
            stored = read_train_config(run_dir)
            for key in ("steps", "device", "amp", "compile", "cuda_graphs"):
                setattr(stored, key, getattr(config, key))
            config = stored
        trainers.append(
            Trainer(
                config,
                run_dir,
                resume=mode == "resume",
                replace=mode == "restart",
                progress=progress if index == 0 else False,
            )
        )
    group = Group(trainers)
    try:
        group.run()
    except GanzooError:
        if not group.failures:
            raise
    return group.failures
