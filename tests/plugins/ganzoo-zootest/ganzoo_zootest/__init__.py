"""A third-party ganzoo plugin that ships a pretrained generator: a small GAN on the ring of eight Gaussians."""

from pathlib import Path

from ganzoo import Pretrained, hookimpl

PRETRAINED = Path(__file__).parent / "pretrained"


@hookimpl
def register_pretrained(register):
    register(
        "zootest-ring",
        Pretrained(
            description="GAN (non-saturating) on the ring of eight Gaussians, small MLPs, 1500 steps",
            # the recipe: ganzoo train gan --data ring --set ... --steps 1500 --seed 0
            variant="gan",
            data="ring",
            sets=("arch.g_width=32", "arch.g_depth=2", "arch.d_width=32", "arch.d_depth=2", "arch.d_maxout=2"),
            steps=1500,
            seed=0,
            # the weights: a generator folder shipped in this package, stored as float16
            folder=PRETRAINED / "zootest-ring",
            dtype="float16",
            license="apache-2.0",
            # how it was scored, and how far a new measurement may stray (absolute)
            evaluation={"metrics": ["modes", "fid"], "n": 1000, "split": "test", "seed": 0},
            tolerance={"modes": 0, "hq": 0.2, "rkl": 0.02, "fid": 0.0005},
            # what `ganzoo zoo build zootest-ring` printed
            sha256="436c5a10d16ae6c70c51c5dbe660fbc59603af01107059fda96768fdd96c19a1",
            size=3892,
            metrics=[
                {
                    "metric": "modes",
                    "values": {"modes": 7.0, "hq": 3.1, "rkl": 0.47141392883568417},
                    "protocol": {
                        "data": "ring",
                        "split": "test",
                        "seed": 0,
                        "n_real": 1000,
                        "n_generated": 1000,
                        "sample_shape": [2],
                        "options": {"threshold": 3.0},
                        "ganzoo": "0.1.0",
                        "mode_count": 8,
                        "mode_std": 0.01,
                        "step": 1500,
                        "weights": "generator",
                        "dtype": "float16",
                    },
                },
                {
                    "metric": "fid",
                    "values": {"fid": 0.0008392880229965982},
                    "protocol": {
                        "data": "ring",
                        "split": "test",
                        "seed": 0,
                        "n_real": 1000,
                        "n_generated": 1000,
                        "sample_shape": [2],
                        "options": {"features": ""},
                        "ganzoo": "0.1.0",
                        "features": "coordinates",
                        "step": 1500,
                        "weights": "generator",
                        "dtype": "float16",
                    },
                },
            ],
        ),
    )
