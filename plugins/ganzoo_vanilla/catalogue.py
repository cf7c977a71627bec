"""The vanilla plugin's pretrained generators: the PacGAN 2-D setting on the ring and the grid."""

from __future__ import annotations

from pathlib import Path

from ganzoo import Pretrained

SHIPPED = Path(__file__).parent / "pretrained"
POINTS_EVALUATION = {"metrics": ["modes"], "n": 2500, "split": "test", "seed": 0}


def _gan_on(data: str, what: str, **built: object) -> Pretrained:
    return Pretrained(
        description=f"Vanilla GAN (non-saturating) on {what}, the PacGAN 2-D setting, 10,000 steps",
        # the recipe: ganzoo train gan --data DATA --steps 10000 --seed 0
        variant="gan",
        data=data,
        steps=10000,
        seed=0,
        folder=SHIPPED / f"gan-{data}",
        dtype="float16",
        license="apache-2.0",
        evaluation=POINTS_EVALUATION,
        # how far a new measurement may stray (absolute; hq in percentage points)
        tolerance={"modes": 0, "hq": 0.5, "rkl": 0.01},
        **built,
    )


GAN_RING = _gan_on(
    "ring",
    "the ring of eight Gaussians",
    # what `ganzoo zoo build gan-ring --device cpu` printed
    sha256="e44cc3a821537df7a07796bc5dfa68f51f7d85696c2a246ccfacd9fecff2bde7",
    size=978068,
    metrics=[
        {
            "metric": "modes",
            "values": {"modes": 8.0, "hq": 63.28, "rkl": 0.1139059221277328},
            "protocol": {
                "data": "ring",
                "split": "test",
                "seed": 0,
                "n_real": 2500,
                "n_generated": 2500,
                "sample_shape": [2],
                "options": {"threshold": 3.0},
                "ganzoo": "0.1.0",
                "mode_count": 8,
                "mode_std": 0.01,
                "step": 10000,
                "weights": "generator",
                "dtype": "float16",
            },
        },
    ],
)
GAN_GRID = _gan_on(
    "grid",
    "the grid of 25 Gaussians",
    # what `ganzoo zoo build gan-grid --device cpu` printed
    sha256="96a59eaf97d8a9a1def1c4a34c091158cd2f8ae3204433ebc3455e12a50ed5f7",
    size=978068,
    metrics=[
        {
            "metric": "modes",
            "values": {"modes": 17.0, "hq": 47.92, "rkl": 0.6670879497880037},
            "protocol": {
                "data": "grid",
                "split": "test",
                "seed": 0,
                "n_real": 2500,
                "n_generated": 2500,
                "sample_shape": [2],
                "options": {"threshold": 3.0},
                "ganzoo": "0.1.0",
                "mode_count": 25,
                "mode_std": 0.05,
                "step": 10000,
                "weights": "generator",
                "dtype": "float16",
            },
        },
    ],
)
