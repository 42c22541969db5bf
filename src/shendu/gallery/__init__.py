"""The textbook gallery (``shendu gallery [--quick] [--out DIR]``): small experiments, each reproducing one claim
of the books, written as one HTML page with the figures, the measured numbers and a verdict computed from them.

    from shendu import gallery
    results = gallery.run_all(quick=True)              # list of Result
    gallery.write_page(results, "runs/gallery")        # runs/gallery/index.html

Each experiment lives in a topic module (basics, gradients, optimization, regularization, architectures, text_lm,
compression, pretraining) and is registered in ``REGISTRY`` (name -> Experiment) in page order.
"""
from __future__ import annotations

import time
from pathlib import Path

from ._core import REGISTRY, Experiment, Result, run_experiment, verdict_of
from .page import write_page
# importing the topic modules registers their experiments; the import order is the page order
from . import basics, gradients, optimization, regularization, architectures  # noqa: F401,E402
from . import text_lm, compression, pretraining  # noqa: F401,E402

__all__ = ["REGISTRY", "Experiment", "Result", "run_experiment", "run_all", "verdict_of", "write_page", "main"]


def run_all(quick=True, seed=0, only=None, catch=True, log=None):
    """Run the registered experiments (``only``: a list of names) and return their Results in page order."""
    names = list(REGISTRY) if not only else list(only)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"gallery: unknown experiment(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    results = []
    for name in names:
        r = run_experiment(name, quick=quick, seed=seed, catch=catch)
        if log is not None:
            log(f"{name:22s} {r.verdict:15s} {r.seconds:6.1f} s" + (f"  ({r.error})" if r.error else ""))
        results.append(r)
    return results


def main(out="runs/gallery", quick=False, seed=0, only=None, log=print):
    """Run the gallery and write out/index.html; returns (page path, results)."""
    t0 = time.perf_counter()
    results = run_all(quick=quick, seed=seed, only=only, log=log)
    path = write_page(results, Path(out), quick=quick, elapsed=time.perf_counter() - t0)
    if log is not None:
        n_ok = sum(r.verdict == "reproduced" for r in results)
        log(f"{n_ok} of {len(results)} claims reproduced; wrote {path}")
    return path, results
