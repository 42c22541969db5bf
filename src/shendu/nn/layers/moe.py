"""Dynamic structure (textbook 12.1.5): mixture of experts, cascades of classifiers, conditional computation.

* ``MixtureOfExperts(experts, gater)``: a gater g(x) gives one weight per expert. ``gater='soft'``: weights
  softmax(g(x)), output sum_e w_e f_e(x) (every expert runs; W12.10). ``'top1'`` (hard mixture, one expert per
  example) and ``'topk'``: only the chosen experts run, each on the rows routed to it (per-branch batching:
  gather rows, run the expert once, scatter-add back). topk weights are the softmax over the k chosen logits
  (renormalised); top1 uses the chosen expert's softmax probability (Switch Transformer) so the gater still
  gets a gradient. ``aux_loss`` after a forward is the optional load-balancing loss E * sum_e f_e P_e
  (f_e: fraction of rows routed to e, P_e: mean gate probability), 1 when the load is uniform.

The other dynamic structures of 12.1.5 live beside it: ``Cascade`` and ``recall_threshold`` in cascade.py,
``ConditionalBlockDropout`` in conditional.py (re-exported here)."""
from __future__ import annotations

from ...autograd.tensor import Tensor, _wrap
from ...backend import namespace_of
from ...ops import index_add, index_select, softmax, stack, zeros
from ..containers import ModuleList
from ..module import Module
from .cascade import Cascade, recall_threshold  # noqa: F401  (the old import path)
from .conditional import ConditionalBlockDropout  # noqa: F401
from .linear import Linear

_MODES = ("soft", "top1", "topk")


def _in_features(experts):
    for e in experts:
        n = getattr(e, "in_features", None)
        if n is None and hasattr(e, "__getitem__"):
            try:
                n = getattr(e[0], "in_features", None)
            except (TypeError, IndexError, KeyError):
                n = None
        if n is not None:
            return n
    return None


class MixtureOfExperts(Module):
    """y = sum_e w_e(x) f_e(x) with a softmax gater (soft) or a hard top-1/top-k gater (textbook 12.1.5).

    experts: list of Modules mapping (N, in) -> (N, out), all with the same output shape. gater: 'soft',
    'top1', 'topk' (with ``k``), or a Module giving (N, E) gate logits (then ``mode`` picks the rule).
    The gate network defaults to ``Linear(in_features, E)`` (in_features read from the first expert when it
    has one). x: (N, in) -> (N, out)."""

    def __init__(self, experts, gater="soft", k: int = 1, in_features=None, mode=None, renormalize=None,
                 load_balance: bool = True):
        super().__init__()
        experts = list(experts)
        if not experts or not all(isinstance(e, Module) for e in experts):
            raise TypeError("MixtureOfExperts: experts must be a non-empty list of Modules")
        E = len(experts)
        self.experts = ModuleList(experts)
        if isinstance(gater, str):
            mode = gater if mode is None else mode
            n_in = in_features if in_features is not None else _in_features(experts)
            if n_in is None:
                raise ValueError("MixtureOfExperts: cannot infer the gate's input size; pass in_features=")
            self.gate = Linear(n_in, E)
        elif isinstance(gater, Module):
            self.gate = gater
            mode = "soft" if mode is None else mode
        else:
            raise TypeError(f"MixtureOfExperts: gater must be 'soft', 'top1', 'topk' or a Module, got {gater!r}")
        if mode not in _MODES:
            raise ValueError(f"MixtureOfExperts: gater mode must be one of {_MODES}, got {mode!r}")
        if mode == "top1":
            k = 1
        if not 1 <= int(k) <= E:
            raise ValueError(f"MixtureOfExperts: k must lie in [1, {E}] (the number of experts), got {k}")
        self.mode, self.k = mode, int(k)
        self.renormalize = (mode == "topk" and self.k > 1) if renormalize is None else bool(renormalize)
        self.load_balance = load_balance
        self.aux_loss = None
        self.last_counts = None  # rows each expert evaluated in the last forward

    def gate_probs(self, x) -> Tensor:
        """softmax(g(x)): (N, E) gate probabilities."""
        return softmax(self.gate(x), -1)

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"MixtureOfExperts: expected input (N, in_features), got shape {tuple(x.shape)}")
        logits = self.gate(x)
        E = len(self.experts)
        if logits.ndim != 2 or logits.shape[1] != E:
            raise ValueError(f"MixtureOfExperts: the gater gave shape {tuple(logits.shape)}, expected (N, {E})")
        probs = softmax(logits, -1)
        N = x.shape[0]
        if self.mode == "soft":
            ys = stack([e(x) for e in self.experts], 1)  # (N, E, *out)
            w = probs.reshape(probs.shape + (1,) * (ys.ndim - 2))
            self.last_counts = [N] * E
            self.aux_loss = None
            return (w * ys).sum(1)
        xp = namespace_of(logits._data)
        order = xp.argsort(-logits._data, axis=1, kind="stable")[:, :self.k]  # chosen experts (N, k)
        rows_all = xp.arange(N)
        if self.renormalize:
            chosen = logits[_wrap(rows_all[:, None]), _wrap(order)]  # (N, k) chosen logits
            w = softmax(chosen, -1)
        else:
            w = probs[_wrap(rows_all[:, None]), _wrap(order)]
        out = None
        counts = []
        for e, expert in enumerate(self.experts):
            hit = order == e
            rows, slots = xp.nonzero(hit)
            counts.append(int(rows.shape[0]))
            if rows.shape[0] == 0:
                continue
            ye = expert(index_select(x, 0, _wrap(rows)))
            we = w[_wrap(rows), _wrap(slots)]
            contrib = ye * we.reshape(we.shape + (1,) * (ye.ndim - 1))
            if out is None:
                out = zeros((N,) + tuple(ye.shape[1:]), dtype=ye.dtype, device=ye.device)
            out = index_add(out, 0, _wrap(rows), contrib)
        self.last_counts = counts
        if self.load_balance:
            top1 = order[:, 0]
            frac = (top1[:, None] == xp.arange(E)[None, :]).astype(probs._data.dtype).mean(axis=0)
            self.aux_loss = (probs.mean(0) * _wrap(frac)).sum() * float(E)
        return out

    def extra_repr(self):
        return f"experts={len(self.experts)}, gater={self.mode!r}, k={self.k}, renormalize={self.renormalize}"


__all__ = ["Cascade", "ConditionalBlockDropout", "MixtureOfExperts", "recall_threshold"]
