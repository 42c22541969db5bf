"""Recipe registry: named, seeded training set-ups runnable with `shendu train NAME`.

A recipe is a function `build(cfg) -> Setup` registered with `@register(name, description=..., epochs=...,
batch_size=..., lr=...)`. `cfg` is a dict with epochs, batch_size, lr, seed, threads, download, data_dir (the
base folder, as $SHENDU_DATA: a data set `name` lives in data_dir/name) and quick (a smoke run: one epoch of a
few steps; a recipe may shrink its model or data, and must then run offline, see `_data.py`).
Other engineers add recipes (e.g. `cifar10-cnn`, `lenet-mnist`, `chatbot`) as modules of this package,
imported automatically; user code may also register at runtime before calling `run`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Recipe", "Setup", "register", "get", "names", "REGISTRY", "RecipeError"]


class RecipeError(ValueError):
    """Unknown recipe, bad recipe argument or missing data (the CLI prints it on one line, exit code 2)."""


@dataclass
class Setup:
    """What a recipe's build returns: a model with its training objects and data splits (arrays or loaders)."""

    model: Any
    loss: Any
    optimizer: Any
    train: Any
    test: Any
    val: Any = None
    metrics: tuple = ("accuracy",)
    callbacks: list = field(default_factory=list)
    scheduler: Any = None
    fit_kwargs: dict = field(default_factory=dict)
    report: Any = None  # model -> list of lines the runner prints after the test metrics (e.g. chatbot replies)


@dataclass
class Recipe:
    name: str
    description: str
    build: Callable[[dict], Setup]
    defaults: dict


REGISTRY: dict[str, Recipe] = {}


def register(name, *, description, epochs, batch_size, lr, seed=0, threads=None):
    """Decorator registering `build(cfg) -> Setup` as recipe `name` with its default hyperparameters.

    threads: BLAS threads while the recipe runs (None: the runner's choice, `runner.auto_threads()`). Small
    models run fastest single-threaded: BLAS threads cost more than they give on tiny matrix products.
    """

    def deco(build):
        if name in REGISTRY and REGISTRY[name].build is not build:
            raise ValueError(f"recipe {name!r} is already registered")
        REGISTRY[name] = Recipe(name, description, build,
                                {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
                                 "threads": threads})
        return build

    return deco


def names():
    from . import _load_builtin

    _load_builtin()
    return sorted(REGISTRY)


def get(name) -> Recipe:
    from . import _load_builtin

    _load_builtin()
    if name not in REGISTRY:
        raise RecipeError(f"unknown recipe {name!r}; available: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]
