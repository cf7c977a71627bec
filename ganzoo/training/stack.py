"""Seeds stacked: K runs of one recipe trained as one batched computation, the seeds' weights stacked along a new
first axis and every layer run once for all of them (``torch.func``: ``vmap`` over ``functional_call``).

Each seed's trainer keeps its own networks and optimisers, but their tensors become views into the stack: a
parameter of seed k is row k of the stacked parameter (transposed, for a linear layer's weight, which the stack keeps
``[K, in, out]``), its Adam moments row k of the stacked moments. So the seed's
checkpoints, samples, evaluation and resume are the trainer's usual code, untouched. The K losses are summed, so one
backward and one optimiser step serve every seed: a seed's gradient is its own loss's (the other seeds' terms do not
depend on its weights), and Adam and RMSprop work element by element, so each seed takes the step it would take
alone, up to the order of floating-point sums inside the batched kernels. Each seed draws its own batches and noise
from its own random state, in the order it would alone.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn import functional as F
from torch.nn.utils import parametrize

from ganzoo.loss import Loss
from ganzoo.training.loop import make_optimizer

if TYPE_CHECKING:
    from ganzoo.training.loop import Trainer

# Layers that cannot run batched over seeds with each seed's own state, and why.
UNSTACKABLE: tuple[tuple[type[nn.Module], str], ...] = (
    (
        (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout),
        "it draws random masks, which a batched step cannot draw per seed as the seed alone would",
    ),
)
PROBE_BATCH = 2  # samples per seed in the trial run of the batched networks
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class FloatBatchNorm:
    """Hooks that run a batch-norm layer on its input cast to fp32, and cast its output back to the input's type.

    Under bf16 autocast a CPU batch norm takes a bf16 input with fp32 statistics, but not when vmapped (torch 2.11
    refuses the mixed types there). The mixed kernel computes in fp32 inside, so the results agree up to rounding."""

    def __init__(self, module: nn.Module) -> None:
        self.dtypes: list[torch.dtype] = []
        module.register_forward_pre_hook(self.before)
        module.register_forward_hook(self.after)

    def before(self, _module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        self.dtypes.append(args[0].dtype)
        return (args[0].float(), *args[1:])

    def after(self, _module: nn.Module, _args: Any, output: torch.Tensor) -> torch.Tensor:
        return output.to(self.dtypes.pop())


def autocast_output(_module: nn.Module, _args: Any, output: torch.Tensor) -> torch.Tensor:
    """A linear layer's output in the autocast type, as the unbatched layer gives it: batched, ``vmap`` splits the
    layer into a product (autocast's type) and a sum with the fp32 bias (fp32)."""
    kind = output.device.type
    if torch.is_autocast_enabled(kind) and output.is_floating_point():
        return output.to(torch.get_autocast_dtype(kind))
    return output


def linear_in_autocast_type(module: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """``nn.Linear``'s forward with its bias cast to the autocast type first, so that the sum ``vmap`` splits off
    the product is in that type too: summed with the fp32 bias, the output would be fp32 (a mixed-type sum, three
    times slower on a CPU, then a cast back)."""
    bias = module.bias
    kind = x.device.type
    if bias is not None and torch.is_autocast_enabled(kind):
        bias = bias.to(torch.get_autocast_dtype(kind))
    return F.linear(x, module.weight, bias)


def transposed_weights(template: nn.Module) -> set[str]:
    """The names of the weights the stack keeps transposed, ``[K, in, out]``: those of ``template``'s linear layers
    (exact type: a subclass may need its weight contiguous). The batched product reads such a weight as it lies, and
    its gradient comes out of the batched product in that layout, so it lands as is. Stacked ``[K, out, in]``, each
    weight gradient was copied across the transpose into the weight's layout: 1.8 ms a round for one 10 x 1000 x
    200 weight on a 2-core CPU (docs/performance.md)."""
    return {
        f"{prefix}.weight" if prefix else "weight" for prefix, m in template.named_modules() if type(m) is nn.Linear
    }


def seed_row(stacked: torch.Tensor, index: int, transposed: bool) -> torch.Tensor:
    """Seed ``index``'s view of a stacked tensor (a weight, its gradient or an optimiser moment), in the seed's
    own shape when the stack keeps it transposed."""
    return stacked[index].t() if transposed and stacked.dim() == 3 else stacked[index]


def batched_template(network: nn.Module) -> nn.Module:
    """A copy of ``network`` to run with the stacked weights (``functional_call``): its batch norms in fp32, its
    linear layers' outputs in the autocast type (a subclass with its own forward: cast after it)."""
    template = copy.deepcopy(network)
    for module in template.modules():
        if isinstance(module, BATCH_NORMS):
            FloatBatchNorm(module)
        if isinstance(module, nn.Linear):
            if type(module).forward is nn.Linear.forward:
                module.forward = functools.partial(linear_in_autocast_type, module)
            else:
                module.register_forward_hook(autocast_output)
    return template


def stack_problem(trainers: list[Trainer], starts: list[int | None]) -> str | None:
    """Why these (prepared) runs cannot be trained as one stack — the setting or the layer that stops it, in a few
    words — or None when they can."""
    first = trainers[0]
    if len(trainers) < 2:
        return "one run alone"
    if any(start is None for start in starts) or len(set(starts)) > 1:
        return f"the runs start at different steps ({', '.join(str(s) for s in starts)})"
    mine = {k: v for k, v in first.config.as_dict().items() if k != "seed"}
    for trainer in trainers[1:]:
        other = {k: v for k, v in trainer.config.as_dict().items() if k != "seed"}
        differ = sorted(k for k in mine if mine[k] != other.get(k))
        if differ:
            return f"the runs' settings differ ({differ[0]})"
    if first.world.distributed:
        return "training is spread over processes (torchrun)"
    if first.config.compile:
        return "--compile (torch.compile of one seed's networks)"
    if first.graphs:
        return "CUDA graphs are on, and the stacked step is not captured yet (--no-cuda-graphs stacks it eagerly)"
    if first.num_classes:
        return f"variant {first.config.variant!r} is class-conditional"
    if type(first.loss).regularizer is not Loss.regularizer:
        return (
            f"loss {first.config.loss!r} has a regulariser (it takes its own gradients through one seed's "
            "discriminator, which the batched step does not)"
        )
    for role, network in (("generator", first.G), ("discriminator", first.D)):
        found = unstackable_layer(network)
        if found is not None:
            return f"the {role}'s layer {found}"
    return probe(first)


def unstackable_layer(network: nn.Module) -> str | None:
    """The first layer of ``network`` known not to stack, named with its type and the reason; None if none is."""
    for name, module in network.named_modules():
        where = f"{name or '(top)'} ({type(module).__name__})"
        for kinds, why in UNSTACKABLE:
            if isinstance(module, kinds):
                return f"{where}: {why}"
        if parametrize.is_parametrized(module):
            kinds = sorted({type(f).__name__.lstrip("_") for fs in module.parametrizations.values() for f in fs})
            return (
                f"{where}: its {', '.join(module.parametrizations)} is parametrised ({', '.join(kinds)}), "
                "recomputed with state updated in place on every call"
            )
        if hasattr(module, "weight_orig"):
            return f"{where}: spectral norm updates its power-iteration vectors in place every call"
    return None


def probe(trainer: Trainer) -> str | None:
    """Run the trainer's networks batched over two copies of themselves once, on a tiny batch: the layer that fails
    under ``vmap`` (a data-dependent branch, an in-place write to a weight, ...) is named; None when both run."""
    with torch.random.fork_rng(devices=[trainer.device] if trainer.device.type == "cuda" else []):
        return _probe(trainer)


def _probe(trainer: Trainer) -> str | None:
    z = torch.stack([trainer.draw_noise()[:PROBE_BATCH]] * 2)
    real = torch.stack([trainer.draw_batch()[0][: PROBE_BATCH * trainer.config.pack]] * 2)
    for role, network, inputs in (("generator", trainer.G, z), ("discriminator", trainer.D, real)):
        failure = batched_failure(network, inputs, trainer.autocast())
        if failure is not None:
            return f"the {role}'s layer {failure}"
    return None


def batched_failure(network: nn.Module, inputs: torch.Tensor, precision: Any) -> str | None:
    """Two copies of ``network`` run batched on ``inputs`` (``[2, batch, ...]``) inside ``precision`` (the step's
    autocast): None when they run, else the layer that was running when it failed, and the error."""
    template = batched_template(network)
    params, buffers = stack_module_state([copy.deepcopy(network), copy.deepcopy(network)])
    entered: list[str] = []

    def note(module: nn.Module, _inputs: Any, name: str) -> None:
        entered.append(f"{name or '(top)'} ({type(module).__name__})")

    hooks = [
        module.register_forward_pre_hook(functools.partial(note, name=name))
        for name, module in template.named_modules()
    ]
    try:
        with torch.no_grad(), precision:
            vmap(lambda p, b, x: functional_call(template, (p, b), (x,)))(params, buffers, inputs)
    except Exception as exc:  # whatever a plugin's layer does wrong under vmap refuses the stack, naming the layer
        text = " ".join(str(exc).split())[:200]
        return f"{entered[-1] if entered else '(top)'} does not run batched over seeds ({type(exc).__name__}: {text})"
    finally:
        for hook in hooks:
            hook.remove()
    return None


class Stack:
    """The stacked networks and optimisers of K prepared trainers, and their one batched step (``round``)."""

    def __init__(self, trainers: list[Trainer]) -> None:
        self.trainers = trainers
        first = trainers[0]
        self.phases = first.phases
        self.n_critic = first.n_critic
        self.joint = first.d_per_sample
        self.rounds = 0
        self.linked = False
        self.g_template = batched_template(first.G)
        self.d_template = batched_template(first.D)
        # (a weight tied to another layer's is stacked under that layer's name only)
        self.flip_g = transposed_weights(self.g_template) & dict(first.G.named_parameters()).keys()
        self.flip_d = transposed_weights(self.d_template) & dict(first.D.named_parameters()).keys()
        self.pg, self.bg = self._stack([t.G for t in trainers], self.flip_g)
        self.pd, self.bd = self._stack([t.D for t in trainers], self.flip_d)
        self.own_g = [list(t.G.named_parameters()) for t in trainers]  # (name, parameter) of each seed's networks
        self.own_d = [list(t.D.named_parameters()) for t in trainers]
        cfg = first.config
        fused = bool(first.amp)  # the kernels each seed's own optimiser uses (Trainer.setup)
        self.opt_g = make_optimizer(cfg, list(self.pg.values()), cfg.lr_g, first.device, fused=fused)
        self.opt_d = make_optimizer(cfg, list(self.pd.values()), cfg.lr_d, first.device, fused=fused)
        for stacked, name in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            self._gather_state(stacked, [getattr(t, name) for t in trainers], self._flipped(name))
        self.stream = torch.cuda.Stream(first.device) if first.device.type == "cuda" else None

    @staticmethod
    def _stack(
        modules: list[nn.Module], transposed: set[str]
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """The modules' parameters and buffers stacked (the parameters as leaves that take gradients; those named in
        ``transposed`` stored ``[K, in, out]``), and each module's own tensors turned into views of its row: a module
        keeps reading and writing its weights."""
        params, buffers = stack_module_state(modules)
        for name in transposed:
            rows = params[name]
            params[name] = rows.detach().transpose(1, 2).contiguous().requires_grad_(rows.requires_grad)
        for index, module in enumerate(modules):
            for name, p in module.named_parameters():
                p.data = seed_row(params[name], index, name in transposed)
            for name, b in module.named_buffers():
                b.data = buffers[name][index]
        return params, buffers

    def _flipped(self, optimizer: str) -> list[bool]:
        """Whether each parameter of the stacked optimiser ``opt_g`` or ``opt_d`` is stored transposed (its
        parameters are in the order of the stacked dict's, the network's own)."""
        params, transposed = (self.pg, self.flip_g) if optimizer == "opt_g" else (self.pd, self.flip_d)
        return [name in transposed for name in params]

    @staticmethod
    def _gather_state(
        stacked: torch.optim.Optimizer, optimizers: list[torch.optim.Optimizer], flags: list[bool]
    ) -> None:
        """Resumed runs: their optimisers' state (moments, step counts) stacked into the stacked optimiser's, in the
        layout of the stacked parameter."""
        params = stacked.param_groups[0]["params"]
        mine = [o.param_groups[0]["params"] for o in optimizers]
        for index, param in enumerate(params):
            states = [o.state.get(p[index]) for o, p in zip(optimizers, mine)]
            if not all(states):
                continue
            gathered = {}
            for key, value in states[0].items():
                if value.dim() == 0:
                    gathered[key] = value.clone()
                    continue
                rows = torch.stack([s[key] for s in states])
                gathered[key] = rows.transpose(1, 2).contiguous() if flags[index] and rows.dim() == 3 else rows
            stacked.state[param] = gathered

    def _link(self) -> None:
        """Each trainer's optimiser state as views of the stacked optimiser's (once the stacked one has state):
        its checkpoints then hold the seed's moments and step count."""
        for stacked, name in ((self.opt_g, "opt_g"), (self.opt_d, "opt_d")):
            params, flags = stacked.param_groups[0]["params"], self._flipped(name)
            for index, trainer in enumerate(self.trainers):
                own = getattr(trainer, name)
                for param, p, flipped in zip(params, own.param_groups[0]["params"], flags):
                    state = stacked.state[param]
                    own.state[p] = {
                        key: seed_row(value, index, flipped) if value.dim() > 0 else value
                        for key, value in state.items()
                    }
        self.linked = True

    @staticmethod
    def _point_gradients(
        params: dict[str, torch.Tensor], own: list[list[tuple[str, torch.Tensor]]], transposed: set[str]
    ) -> None:
        """Each trainer's parameters get row k of the stacked gradients, so its gradient norms read as alone."""
        rows: dict[str, tuple[torch.Tensor, ...] | None] = {}
        for name, stacked in params.items():
            grad = stacked.grad
            if grad is not None and name in transposed:
                grad = grad.transpose(1, 2)  # (the seeds' own shape)
            rows[name] = None if grad is None else grad.unbind(0)
        for index, pairs in enumerate(own):
            for name, p in pairs:
                row = rows[name]
                p.grad = None if row is None else row[index]

    def member(self, index: int) -> Callable[[torch.Tensor], None]:
        """Trainer ``index``'s stepper: the first trainer of a round to ask for its step runs the round."""
        calls = 0

        def step(history: torch.Tensor) -> None:
            nonlocal calls
            calls += 1
            if self.rounds < calls:
                self.round()

        return step

    # ----- the batched step -------------------------------------------------------------
    @staticmethod
    def _as_layers(params: dict[str, torch.Tensor], transposed: set[str]) -> dict[str, torch.Tensor]:
        """The stacked parameters in the shapes of the network's layers: the transposed weights seen ``[K, out,
        in]`` (views)."""
        return {name: t.transpose(1, 2) if name in transposed else t for name, t in params.items()}

    def _generate(self, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], z: torch.Tensor) -> Any:
        params = self._as_layers(params, self.flip_g)
        return vmap(lambda p, b, z: self.phases.generate(self._network(self.g_template, p, b), z, None))(
            params, buffers, z
        )

    @staticmethod
    def _network(template: nn.Module, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor]) -> Callable:
        return lambda *inputs: functional_call(template, (params, buffers), inputs)

    def _draws(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every seed's real batch and noise, each drawn from its own random state in its own turn."""
        reals, noises = [], []
        for trainer in self.trainers:
            with trainer.turn():
                reals.append(trainer.draw_batch()[0])
                noises.append(trainer.draw_noise())
        return torch.stack(reals), torch.stack(noises)

    def _noise(self) -> torch.Tensor:
        noises = []
        for trainer in self.trainers:
            with trainer.turn():
                noises.append(trainer.draw_noise())
        return torch.stack(noises)

    def _rates(self) -> None:
        """The stacked optimisers take the rates the trainers set for this step (``lr_decay``), as plain numbers (a
        trainer's rate may be the device tensor a captured step reads)."""
        first = self.trainers[0]
        self.opt_g.param_groups[0]["lr"] = float(first.opt_g.param_groups[0]["lr"])
        self.opt_d.param_groups[0]["lr"] = float(first.opt_d.param_groups[0]["lr"])

    def round(self) -> None:
        """One training step of every seed: the trainer's step (``Trainer.train_step``), batched over the seeds."""
        self.rounds += 1
        first, phases = self.trainers[0], self.phases
        self._rates()
        reuse_fake = self.n_critic == 1
        fake = None

        def judge(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], real: torch.Tensor, fake: torch.Tensor):
            return phases.discriminator(self._network(self.d_template, p, b), real, fake, None, joint=self.joint)

        def fool(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], fake: torch.Tensor) -> torch.Tensor:
            return phases.generator(self._network(self.d_template, p, b), fake, None)

        for _ in range(self.n_critic):
            real, z = self._draws()
            with first.autocast():
                if reuse_fake:
                    fake = self._generate(self.pg, self.bg, z)
                    fake_d = fake.detach()
                else:
                    with torch.no_grad():
                        fake_d = self._generate(self.pg, self.bg, z)
                pd = self._as_layers(self.pd, self.flip_d)
                loss_d, real_logits, fake_logits = vmap(judge)(pd, self.bd, real, fake_d)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.sum().backward()
            self.opt_d.step()
            for trainer in self.trainers:
                phases.after_discriminator_step(trainer.D)
        self._point_gradients(self.pd, self.own_d, self.flip_d)

        with first.autocast():
            if fake is None:
                fake = self._generate(self.pg, self.bg, self._noise())
            frozen = {name: p.detach() for name, p in self.pd.items()}
            pd = self._as_layers(frozen, self.flip_d)
            loss_g = vmap(fool)(pd, self.bd, fake)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.sum().backward()
        self.opt_g.step()
        self._point_gradients(self.pg, self.own_g, self.flip_g)
        if not self.linked:
            self._link()
        zero = torch.zeros((), device=first.device)
        for index, trainer in enumerate(self.trainers):
            if trainer.ema:
                trainer.ema.update(trainer.step)
            trainer.record(trainer.history, loss_d[index], loss_g[index], zero, real_logits[index], fake_logits[index])
