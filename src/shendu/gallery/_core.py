"""The gallery's machinery: the experiment registry, running one experiment into a ``Result`` and its figures.

An experiment is a function ``run(quick: bool, seed: int) -> (numbers, figures)`` registered with
``@experiment(name, title=..., claim=..., section=..., criterion=..., judge=...)``: ``numbers`` is a dict of
measured floats, ``figures`` a list of matplotlib Figures, and ``judge(numbers) -> bool`` decides the verdict
("reproduced" / "not reproduced") from the numbers alone, so the verdict cannot be written by hand.
"""
from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = ["Experiment", "Result", "REGISTRY", "experiment", "run_experiment", "verdict_of", "new_figure"]

REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    claim: str
    section: str
    criterion: str
    judge: object
    run: object


@dataclass
class Result:
    """One experiment's outcome: its description, the measured numbers, PNG figures and the verdict."""
    name: str
    title: str
    claim: str
    section: str
    criterion: str
    numbers: dict
    figures: list = field(default_factory=list)   # PNG bytes, one per figure
    verdict: str = NOT_REPRODUCED
    seconds: float = 0.0
    error: str = ""

    def as_dict(self):
        return {"name": self.name, "title": self.title, "claim": self.claim, "section": self.section,
                "criterion": self.criterion, "numbers": dict(self.numbers), "verdict": self.verdict,
                "seconds": self.seconds, "error": self.error, "n_figures": len(self.figures)}


REGISTRY: dict = {}


def experiment(name, *, title, claim, section, criterion, judge):
    """Register ``run(quick, seed) -> (numbers, figures)`` as gallery experiment ``name``."""
    def deco(fn):
        if name in REGISTRY:
            raise ValueError(f"gallery: experiment {name!r} registered twice")
        REGISTRY[name] = Experiment(name, title, claim, section, criterion, judge, fn)
        return fn
    return deco


def verdict_of(exp, numbers):
    """'reproduced' if every number is finite-or-inf (no NaN) and ``exp.judge(numbers)`` holds."""
    if any(isinstance(v, float) and math.isnan(v) for v in numbers.values()):
        return NOT_REPRODUCED
    return REPRODUCED if bool(exp.judge(numbers)) else NOT_REPRODUCED


def _png(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def new_figure(ncols=1, width=4.6, height=3.3):
    """A matplotlib Figure (no pyplot, no global state) and its axes (one, or a list for ncols > 1)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def run_experiment(name, quick=True, seed=0, catch=False):
    """Run registered experiment ``name``; returns its Result (catch=True: an exception becomes a
    'not reproduced' Result with the error text instead of propagating)."""
    from .. import manual_seed

    if name not in REGISTRY:
        raise ValueError(f"gallery: unknown experiment {name!r}; known: {', '.join(REGISTRY)}")
    exp = REGISTRY[name]
    manual_seed(seed)
    t0 = time.perf_counter()
    try:
        numbers, figs = exp.run(quick=quick, seed=seed)
    except Exception as e:  # reported on the page
        if not catch:
            raise
        return Result(exp.name, exp.title, exp.claim, exp.section, exp.criterion, {}, [], NOT_REPRODUCED,
                      time.perf_counter() - t0, f"{type(e).__name__}: {e}")
    numbers = {k: (float(v) if not isinstance(v, (int, np.integer)) or isinstance(v, bool) else int(v))
               for k, v in numbers.items()}
    pngs = [_png(f) for f in figs]
    return Result(exp.name, exp.title, exp.claim, exp.section, exp.criterion, numbers, pngs,
                  verdict_of(exp, numbers), time.perf_counter() - t0)


# --- shared helpers for the experiments ----------------------------------------------------------------------

@lru_cache(maxsize=1)
def digits():
    """The 8x8 digits ((x_train, y_train), (x_test, y_test)), float32 in [0, 1] (cached)."""
    from ..data.datasets import load_digits

    return load_digits()


def tensor(a, dtype=None):
    """A host array as a constant tensor on the default device."""
    from .. import tensor as _tensor

    a = np.ascontiguousarray(a)
    return _tensor(a) if dtype is None else _tensor(a.astype(dtype))


def host(t):
    """A tensor's values as a NumPy array (copied to the host)."""
    from ..backend import to_host

    return np.asarray(to_host(t.detach()._data))
