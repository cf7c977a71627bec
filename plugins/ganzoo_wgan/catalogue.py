"""The wgan plugin's pretrained generators: recipes, shipped weights and the figures they scored."""

from __future__ import annotations

from pathlib import Path

from ganzoo import Pretrained

SHIPPED = Path(__file__).parent / "pretrained"
DIGITS_EVALUATION = {
    "metrics": ["fid", "kid", "prdc", "classes"],
    "n": 360,
    "split": "test",
    "seed": 0,
    "features": "digits-cnn",
}

WGAN_GP_DIGITS = Pretrained(
    description="WGAN-GP on the scikit-learn digits at 16 px, networks of width 32",
    # the recipe: ganzoo train wgan-gp --data digits --steps 2000 --set data.size=16 --set arch.g_width=32
    # --set arch.d_width=32
    variant="wgan-gp",
    data="digits",
    sets=("data.size=16", "arch.g_width=32", "arch.d_width=32"),
    steps=2000,
    seed=0,
    folder=SHIPPED / "wgan-gp-digits",
    dtype="float16",
    license="cc-by-4.0",
    evaluation=DIGITS_EVALUATION,
    # how far a new measurement may stray (absolute): the same weights scored elsewhere, or rebuilt on another CPU
    tolerance={
        "fid": 0.05,
        "kid": 0.005,
        "kid_std": 0.005,
        "precision": 0.02,
        "recall": 0.02,
        "density": 0.02,
        "coverage": 0.02,
        "classes": 0,
        "kl": 0.01,
    },
    # what `ganzoo zoo build wgan-gp-digits --device cpu` printed
    sha256="c4010a553f73704949a97410b339ff65a1f7b22b407605fd2f30866bee038991",
    size=273200,
    metrics=[
        {
            "metric": "fid",
            "values": {"fid": 0.7236393895177429},
            "protocol": {
                "data": "digits",
                "split": "test",
                "seed": 0,
                "n_real": 360,
                "n_generated": 360,
                "sample_shape": [1, 16, 16],
                "options": {"features": ""},
                "ganzoo": "0.1.0",
                "features": "digits-cnn",
                "features_sha256": "2a32d07c62ac5e28d6a463a4d910bfca34031b91d8b3abc004d8b1a8d5124fb3",
                "features_input_size": 32,
                "step": 2000,
                "weights": "ema",
                "dtype": "float16",
            },
        },
        {
            "metric": "kid",
            "values": {"kid": -0.004239370462777483, "kid_std": 0.01025441189336275},
            "protocol": {
                "data": "digits",
                "split": "test",
                "seed": 0,
                "n_real": 360,
                "n_generated": 360,
                "sample_shape": [1, 16, 16],
                "options": {"subsets": 100, "subset_size": 1000, "features": ""},
                "ganzoo": "0.1.0",
                "features": "digits-cnn",
                "features_sha256": "2a32d07c62ac5e28d6a463a4d910bfca34031b91d8b3abc004d8b1a8d5124fb3",
                "features_input_size": 32,
                "kid_subset_size": 180,
                "kid_subsets": 100,
                "step": 2000,
                "weights": "ema",
                "dtype": "float16",
            },
        },
        {
            "metric": "prdc",
            "values": {
                "precision": 0.7833333333333333,
                "recall": 0.9388888888888889,
                "density": 0.5027777777777778,
                "coverage": 0.6777777777777778,
            },
            "protocol": {
                "data": "digits",
                "split": "test",
                "seed": 0,
                "n_real": 360,
                "n_generated": 360,
                "sample_shape": [1, 16, 16],
                "options": {"k": 5, "features": ""},
                "ganzoo": "0.1.0",
                "features": "digits-cnn",
                "features_sha256": "2a32d07c62ac5e28d6a463a4d910bfca34031b91d8b3abc004d8b1a8d5124fb3",
                "features_input_size": 32,
                "step": 2000,
                "weights": "ema",
                "dtype": "float16",
            },
        },
        {
            "metric": "classes",
            "values": {"classes": 10.0, "kl": 0.032208382397921176},
            "protocol": {
                "data": "digits",
                "split": "test",
                "seed": 0,
                "n_real": 360,
                "n_generated": 360,
                "sample_shape": [1, 16, 16],
                "options": {"features": ""},
                "ganzoo": "0.1.0",
                "features": "digits-cnn",
                "features_sha256": "2a32d07c62ac5e28d6a463a4d910bfca34031b91d8b3abc004d8b1a8d5124fb3",
                "features_input_size": 32,
                "classes_reference": "labels",
                "num_classes": 10,
                "step": 2000,
                "weights": "ema",
                "dtype": "float16",
            },
        },
    ],
)
