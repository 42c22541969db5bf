"""Parameter tying and sharing (textbook 7.9): the soft penalty Omega = alpha ||w(A) - w(B)||^2 between two
models, and hard sharing (one Parameter object used by both; gradients of the uses add up). Encoder-decoder
tying by transpose: ``nn.TiedLinear``."""
from __future__ import annotations

from ..nn.module import Module
from ..nn.parameter import Parameter


def _matched(a: Module, b: Module, names, who: str):
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    keys = [n for n in pa if n in pb] if names is None else list(names)
    for n in keys:
        if n not in pa or n not in pb:
            raise KeyError(f"{who}: parameter {n!r} missing in {'the first' if n not in pa else 'the second'} module")
        if tuple(pa[n].shape) != tuple(pb[n].shape):
            raise ValueError(f"{who}: parameter {n!r} has shape {tuple(pa[n].shape)} in the first module and "
                             f"{tuple(pb[n].shape)} in the second")
    if not keys:
        raise ValueError(f"{who}: the two modules have no parameter names in common")
    return [(n, pa[n], pb[n]) for n in keys]


class TiedPenalty:
    """Omega(w(A), w(B)) = alpha * sum ||w(A) - w(B)||_2^2 over the parameters both modules share by name
    (textbook 7.9, Lasserre et al. 2006); grad on A = 2 alpha (w(A) - w(B)). ``names``: restrict to these.
    Call it (optionally with a model, ignored, for ``fit(regularizers=...)``) and add the result to the loss."""

    def __init__(self, module_a: Module, module_b: Module, alpha: float = 1.0, names=None):
        if alpha < 0:
            raise ValueError(f"TiedPenalty: alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        matched = _matched(module_a, module_b, names, "TiedPenalty")
        self.pairs = [(pa, pb) for _, pa, pb in matched]
        self.names = [n for n, _, _ in matched]

    def __call__(self, model=None):
        total = None
        for pa, pb in self.pairs:
            d = pa - pb
            t = (d * d).sum()
            total = t if total is None else total + t
        return total * self.alpha

    def __repr__(self):
        return f"TiedPenalty(alpha={self.alpha}, names={self.names})"


def share_parameters(src: Module, dst: Module, names=None) -> list:
    """Hard parameter sharing (textbook 7.9): make ``dst`` use ``src``'s Parameter objects for the parameters with
    the same dotted names (all common ones by default). One copy is stored; gradients of both uses add.
    Returns the shared names."""
    shared = []
    for n, pa, _ in _matched(src, dst, names, "share_parameters"):
        owner = dst
        *path, leaf = n.split(".")
        for part in path:
            owner = getattr(owner, part)
        if not isinstance(pa, Parameter):
            raise TypeError(f"share_parameters: {n!r} of the source is not a Parameter")
        setattr(owner, leaf, pa)
        shared.append(n)
    return shared
