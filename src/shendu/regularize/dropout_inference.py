"""Dropout as an ensemble (textbook 7.12): Monte-Carlo inference over sampled masks, exact enumeration of all
2^d masks for tiny nets (Fig 7.6: 16 subnetworks), the arithmetic (7.53) and renormalized geometric (7.54)
inference rules, and dropout on linear regression as a per-feature L2 penalty (Wager et al. 2013)."""
from __future__ import annotations

import itertools
import numbers

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, _wrap
from ..backend import device_of, to_device
from ..nn.functional import log_softmax
from ..nn.layers.dropout import AlphaDropout, Dropout
from ..ops.reduce import logsumexp
from ..ops.shape import stack

__all__ = ["dropout_modules", "mc_dropout_predict", "enumerate_masks", "mask_probabilities", "subnetworks",
           "dropout_expectation", "exact_dropout_predict", "linear_dropout_penalty"]

_MAX_UNITS = 20


def _is_dropout(m):
    return isinstance(m, (Dropout, AlphaDropout)) or "dropout" in type(m).__name__.lower() \
        or "dropconnect" in type(m).__name__.lower()


def dropout_modules(model):
    """The dropout-like submodules of ``model`` (Dropout, Dropout2d, AlphaDropout, GaussianDropout, DropConnect ...)."""
    return [m for m in model.modules() if m is not model and _is_dropout(m)] + ([model] if _is_dropout(model) else [])


class _dropout_only_training:
    """Context: whole model in eval mode except its dropout modules (train mode); modes restored on exit."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        drops = dropout_modules(self.model)
        if not drops:
            raise ValueError(f"mc_dropout_predict: {type(self.model).__name__} has no dropout module")
        for m in drops:
            object.__setattr__(m, "training", True)
        return self

    def __exit__(self, *exc):
        for m, t in self.modes:
            object.__setattr__(m, "training", t)


def _to_model_device(model, x):
    from ..train.loop import model_device

    if not isinstance(x, Tensor):
        x = Tensor(x, device=model_device(model))
    return x


def _combine(logps, rule):
    s = stack(logps, dim=0)
    if rule == "arithmetic":
        return s.exp().mean(dim=0)
    g = s.mean(dim=0)
    return (g - logsumexp(g, dim=-1, keepdim=True)).exp()


def mc_dropout_predict(model, x, n: int = 20, rule: str = "arithmetic", output: str = "probs") -> Tensor:
    """Monte-Carlo dropout inference (textbook 7.12): average the predictions of n sampled masks, with only the
    dropout modules in train mode (batch norm etc. stay in eval). 10-20 masks often suffice.

    output='probs': softmax of each pass, averaged by rule 'arithmetic' (7.53) or 'geometric' (7.54, renormalized);
    output='raw': mean of the raw outputs (regression). No graph is recorded; modes are restored. Shape as model(x)."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"mc_dropout_predict: n must be a positive int, got {n!r}")
    if rule not in ("arithmetic", "geometric") or output not in ("probs", "raw"):
        raise ValueError(f"mc_dropout_predict: rule must be 'arithmetic'/'geometric' and output 'probs'/'raw', "
                         f"got rule={rule!r}, output={output!r}")
    x = _to_model_device(model, x)
    with _dropout_only_training(model), no_grad():
        outs = [model(x) for _ in range(n)]
    if output == "raw":
        return stack(outs, dim=0).mean(dim=0)
    return _combine([log_softmax(o, dim=-1) for o in outs], rule)


def enumerate_masks(d: int) -> np.ndarray:
    """All 2^d binary masks over d units, shape (2^d, d), float (row r = the bits of r, first unit first)."""
    if not 0 <= d <= _MAX_UNITS:
        raise ValueError(f"enumerate_masks: d must be in [0, {_MAX_UNITS}], got {d!r} (2^d masks)")
    return np.array(list(itertools.product((0.0, 1.0), repeat=d)), dtype=np.float64).reshape(2 ** d, d)


def mask_probabilities(masks, keep_prob) -> np.ndarray:
    """p(mu) = prod_i p_i^mu_i (1 - p_i)^(1 - mu_i) for each row mu of ``masks`` (keep probabilities p_i)."""
    masks = np.asarray(masks, dtype=np.float64)
    p = np.broadcast_to(np.asarray(keep_prob, dtype=np.float64), masks.shape[1:])
    return np.prod(np.where(masks > 0, p, 1.0 - p), axis=1)


def subnetworks(n_inputs: int = 2, n_hidden: int = 2):
    """The 2^(n_inputs + n_hidden) subnetworks of a one-hidden-layer net under dropout (textbook Fig 7.6):
    a list of (input_mask, hidden_mask, connected), connected = some input -> hidden -> output path survives
    (fully connected layers: at least one input and one hidden unit kept). Fig 7.6: 16 subnetworks."""
    out = []
    for mu in enumerate_masks(n_inputs + n_hidden):
        a, h = tuple(int(v) for v in mu[:n_inputs]), tuple(int(v) for v in mu[n_inputs:])
        out.append((a, h, any(a) and any(h)))
    return out


def _elementwise_dropouts(model):
    drops = dropout_modules(model)
    for m in drops:
        if type(m) is not Dropout:
            raise ValueError(f"exact dropout enumeration: only elementwise nn.Dropout layers are supported, "
                             f"got {type(m).__name__}")
    if not drops:
        raise ValueError(f"exact dropout enumeration: {type(model).__name__} has no Dropout layer")
    return drops


def dropout_expectation(model, x, fn=None):
    """Exact expectation over ALL dropout masks: sum_mu p(mu) fn(model_mu(x)) (textbook 7.53), where model_mu is
    the subnetwork keeping the units with mu_i = 1 of every nn.Dropout layer (keep probability 1 - p, scaled by
    1/(1-p) in 'inverted' mode, unscaled in 'weight_scaling' mode: each layer's training-time behaviour).
    One mask is shared by the whole batch (each example's expectation is the same). For tiny nets: at most
    2^20 masks. fn: output -> Tensor (default identity). Differentiable in the parameters; other modules eval."""
    drops = _elementwise_dropouts(model)
    x = _to_model_device(model, x)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        return _enumerate(model, drops, x, fn)
    finally:
        for m, t in modes:
            object.__setattr__(m, "training", t)


def _enumerate(model, drops, x, fn):
    shapes = {}

    def record(m, args, out):
        shapes[id(m)] = tuple(args[0].shape[1:])

    handles = [m.register_forward_hook(record) for m in drops]
    try:
        with no_grad():
            model(x[:1])
    finally:
        for h in handles:
            h.remove()
    drops = [m for m in drops if id(m) in shapes]  # layers the forward pass actually uses
    sizes = {id(m): int(np.prod(shapes[id(m)])) for m in drops}
    masks = enumerate_masks(sum(sizes.values()))
    keep = np.concatenate([np.full(sizes[id(m)], 1.0 - m.p) for m in drops] + [np.zeros(0)])
    probs = mask_probabilities(masks, keep)
    dev = device_of(x._data)
    current = {}

    def apply(m, args, out):
        scale = 1.0 / (1.0 - m.p) if (m.mode == "inverted" and m.p < 1) else 1.0
        return args[0] * current[id(m)] * scale

    handles = [m.register_forward_hook(apply) for m in drops]
    total = None
    try:
        for mu, pm in zip(masks, probs):
            if pm == 0.0:
                continue
            start = 0
            for m in drops:
                k = sizes[id(m)]
                arr = mu[start:start + k].reshape(shapes[id(m)]).astype(x._data.dtype)
                current[id(m)] = _wrap(to_device(arr, dev))
                start += k
            out = model(x)
            term = (out if fn is None else fn(out)) * float(pm)
            total = term if total is None else total + term
    finally:
        for h in handles:
            h.remove()
    return total


def exact_dropout_predict(model, x, rule: str = "arithmetic") -> Tensor:
    """Exact dropout ensemble p(y|x) by enumerating all masks of the model's nn.Dropout layers (textbook 7.12):
    'arithmetic' = sum_mu p(mu) softmax(model_mu(x)) (7.53); 'geometric' = exp(sum_mu p(mu) log softmax(...))
    renormalized over y (7.54; with p = 0.5 this is the plain (prod_mu p)^(1/2^d)). Shape (N, K)."""
    if rule == "arithmetic":
        return dropout_expectation(model, x, lambda o: log_softmax(o, dim=-1).exp())
    if rule == "geometric":
        g = dropout_expectation(model, x, lambda o: log_softmax(o, dim=-1))
        return (g - logsumexp(g, dim=-1, keepdim=True)).exp()
    raise ValueError(f"exact_dropout_predict: rule must be 'arithmetic' or 'geometric', got {rule!r}")


def linear_dropout_penalty(weight, x, keep_prob: float) -> Tensor:
    """The penalty dropout adds to linear regression (Wager et al. 2013; textbook 7.12): with inverted input
    dropout m_i ~ Bernoulli(p)/p, E_m[(y - w^T(m*x) - b)^2] = (y - w^T x - b)^2 + ((1-p)/p) sum_i w_i^2 x_i^2,
    i.e. L2 with a per-feature coefficient proportional to the feature's second moment.
    weight: (d,) or (1, d) (nn.Linear's); x: (N, d). Returns the batch mean of ((1-p)/p) sum_i w_i^2 x_i^2."""
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"linear_dropout_penalty: keep_prob must be in (0, 1], got {keep_prob!r}")
    w = weight.reshape(-1)
    if x.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"linear_dropout_penalty: x must be (N, {w.shape[0]}) for a weight of {w.shape[0]} "
                         f"features, got {tuple(x.shape)}")
    return ((x * x) * (w * w)).sum(dim=1).mean() * ((1.0 - keep_prob) / keep_prob)
