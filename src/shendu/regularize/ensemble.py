"""Bagging and model averaging (textbook 7.11): bootstrap resampling, k members trained on resamples, the
arithmetic (7.52) and renormalized geometric (7.54) means of member distributions, and the ensemble error
formula E[(mean_i eps_i)^2] = v/k + (k-1)c/k (7.50-7.51), exact and by Monte Carlo."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.tensor import Tensor, _wrap
from ..backend import device_of, get_generator, to_device
from ..nn.containers import ModuleList
from ..nn.functional import log_softmax
from ..nn.module import Module
from ..ops.reduce import logsumexp
from ..ops.shape import stack

__all__ = ["bootstrap_indices", "bootstrap_sample", "expected_unique_fraction", "ensemble_mse",
           "simulate_ensemble_mse", "average", "Ensemble", "Bagging", "AdaBoost"]

_RULES = ("arithmetic", "geometric")


def _host_rng(generator):
    """A NumPy Generator from None (shendu's CPU generator), an int seed, or a Generator."""
    if generator is None:
        return get_generator()
    if isinstance(generator, numbers.Integral):
        return np.random.default_rng(int(generator))
    if isinstance(generator, np.random.Generator):
        return generator
    inner = getattr(generator, "_gen", None) or getattr(generator, "generator", None)
    if isinstance(inner, np.random.Generator):
        return inner
    raise TypeError(f"expected generator=None, an int seed or a numpy.random.Generator, got {type(generator).__name__}")


def bootstrap_indices(n: int, generator=None) -> np.ndarray:
    """n indices drawn uniformly WITH replacement from range(n) (textbook 7.11, bootstrap); int64 (n,).

    A resample keeps about 1 - (1 - 1/n)^n -> 1 - 1/e ~ 0.632 of the unique examples (W7.12)."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"bootstrap_indices: n must be a positive int, got {n!r}")
    return _host_rng(generator).integers(0, int(n), size=int(n)).astype(np.int64)


def _take(a, idx):
    if isinstance(a, Tensor):
        return a[_wrap(to_device(idx, device_of(a._data)))]
    return a[idx]


def bootstrap_sample(*arrays, generator=None):
    """The same bootstrap resample (same size as the original, with replacement) of each of ``arrays``
    (NumPy arrays or Tensors sharing their first dimension); returns a tuple, then the indices used."""
    if not arrays:
        raise ValueError("bootstrap_sample: expected at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"bootstrap_sample: arrays must share their first dimension, got {[len(a) for a in arrays]}")
    idx = bootstrap_indices(n, generator)
    return tuple(_take(a, idx) for a in arrays), idx


def expected_unique_fraction(n: int) -> float:
    """Expected fraction of distinct originals in a bootstrap resample of size n: 1 - (1 - 1/n)^n (-> 1 - 1/e)."""
    if n < 1:
        raise ValueError(f"expected_unique_fraction: n must be >= 1, got {n!r}")
    return 1.0 - (1.0 - 1.0 / n) ** n


def ensemble_mse(v: float, c: float, k: int) -> float:
    """Expected squared error of the mean of k regressors with E[eps_i^2] = v, E[eps_i eps_j] = c (7.50-7.51):
    v/k + (k-1)c/k. c = v: no gain; c = 0: v/k. W7.11: v = 1, c = 0.3, k = 5 -> 0.44."""
    if not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"ensemble_mse: k must be a positive int, got {k!r}")
    if v < 0 or abs(c) > v + 1e-12:
        raise ValueError(f"ensemble_mse: need v >= 0 and |c| <= v (a valid covariance), got v={v}, c={c}")
    return v / k + (k - 1) * c / k


def simulate_ensemble_mse(v: float, c: float, k: int, n_samples: int = 200_000, generator=None) -> float:
    """Monte-Carlo estimate of E[(mean_i eps_i)^2] for Gaussian errors with variance v and covariance c:
    eps_i = sqrt(c) z + sqrt(v - c) u_i (shared z, own u_i), which has exactly that covariance (needs 0 <= c <= v)."""
    if not 0 <= c <= v:
        raise ValueError(f"simulate_ensemble_mse: need 0 <= c <= v, got v={v}, c={c}")
    rng = _host_rng(generator)
    z = rng.standard_normal((n_samples, 1))
    u = rng.standard_normal((n_samples, k))
    eps = math.sqrt(c) * z + math.sqrt(v - c) * u
    return float(np.mean(eps.mean(axis=1) ** 2))


def _check_rule(who, rule):
    if rule not in _RULES:
        raise ValueError(f"{who}: rule must be one of {_RULES}, got {rule!r}")


def _log_mean(outputs, rule, inputs):
    """log of the averaged distribution, from a list of member outputs (N, K)."""
    if inputs == "logits":
        logp = [log_softmax(o, dim=-1) for o in outputs]
    elif inputs == "log_probs":
        logp = list(outputs)
    elif inputs == "probs":
        logp = [o.clamp(min=1e-30).log() for o in outputs]
    else:
        raise ValueError(f"average: inputs must be 'logits', 'probs' or 'log_probs', got {inputs!r}")
    s = stack(logp, dim=0)  # (k, N, K)
    k = len(logp)
    if rule == "arithmetic":  # log (1/k) sum_i p_i, stably
        return logsumexp(s, dim=0) - math.log(k)
    g = s.mean(dim=0)  # log of the unnormalized geometric mean (7.54)
    return g - logsumexp(g, dim=-1, keepdim=True)  # renormalize over classes


def average(models, x, rule: str = "arithmetic", inputs: str = "logits") -> Tensor:
    """Ensemble prediction p(y|x) of ``models`` on ``x`` (textbook 7.11-7.12), shape (N, K).

    rule='arithmetic': (1/k) sum_i p_i(y|x) (7.52); rule='geometric': prod_i p_i(y|x)^(1/k) renormalized
    over y (7.54). inputs: what the members output, 'logits' (softmax applied), 'probs' or 'log_probs'.
    Differentiable; members are called in their current train/eval mode."""
    _check_rule("average", rule)
    models = list(models)
    if not models:
        raise ValueError("average: expected at least one model")
    return _log_mean([m(x) for m in models], rule, inputs).exp()


class Ensemble(Module):
    """Model averaging over ``members`` (textbook 7.11): forward returns log p_ensemble(y|x), shape (N, K),
    so ``argmax`` predicts and ``cross_entropy``/``nll_loss`` score it directly (softmax(log p) = p).

    rule: 'arithmetic' (7.52) or 'geometric' (renormalized, 7.54); inputs: what members output."""

    def __init__(self, members, rule: str = "arithmetic", inputs: str = "logits"):
        super().__init__()
        _check_rule("Ensemble", rule)
        self.members = ModuleList(list(members))
        self.rule, self.inputs = rule, inputs

    def forward(self, x):
        if len(self.members) == 0:
            raise ValueError("Ensemble: no members (train a Bagging ensemble with .fit first)")
        return _log_mean([m(x) for m in self.members], self.rule, self.inputs)

    def predict_proba(self, x) -> Tensor:
        """p_ensemble(y|x), shape (N, K)."""
        return self(x).exp()

    def extra_repr(self):
        return f"k={len(self.members)}, rule={self.rule!r}"


class Bagging(Ensemble):
    """Bootstrap aggregating (Breiman 1994; textbook 7.11): k members from ``make_model()``, member i trained on
    its own bootstrap resample of the training set (same size, with replacement); prediction averages them.

        bag = Bagging(lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)), k=5)
        bag.fit(x, y, loss="cross_entropy", epochs=20, lr=1e-2)
    """

    def __init__(self, make_model, k: int, rule: str = "arithmetic", inputs: str = "logits", generator=None):
        if isinstance(make_model, Module) or not callable(make_model):
            raise TypeError(f"Bagging: make_model must be a callable returning a new Module (a factory), "
                            f"got {type(make_model).__name__}")
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"Bagging: k must be a positive int, got {k!r}")
        super().__init__([], rule=rule, inputs=inputs)
        self.make_model, self.k = make_model, int(k)
        self._rng = _host_rng(generator)
        self.indices = []  # the bootstrap indices of each member

    def fit(self, x, y, *, loss="cross_entropy", optimizer="adam", epochs=10, batch_size=32, lr=None, verbose=0,
            **fit_kwargs):
        """Train k fresh members, each with ``shendu.train.fit`` on its bootstrap resample; returns the Histories."""
        from ..train import fit

        n = len(x)
        if len(y) != n:
            raise ValueError(f"Bagging.fit: x and y differ in length ({n} vs {len(y)})")
        members, histories, self.indices = [], [], []
        for _ in range(self.k):
            idx = bootstrap_indices(n, self._rng)
            model = self.make_model()
            if not isinstance(model, Module):
                raise TypeError(f"Bagging: make_model() must return a Module, got {type(model).__name__}")
            histories.append(fit(model, (_take(x, idx), _take(y, idx)), loss=loss, optimizer=optimizer, epochs=epochs,
                                 batch_size=batch_size, lr=lr, verbose=verbose, **fit_kwargs))
            members.append(model)
            self.indices.append(idx)
        self.members = ModuleList(members)
        return histories


class AdaBoost(Module):
    """Boosting (textbook 7.11: an ensemble of HIGHER capacity than its members, networks added one at a time;
    Freund & Schapire 1996, Schwenk & Bengio 2000): multi-class AdaBoost (SAMME, Zhu et al. 2009) by resampling.

    Member m trains on a resample drawn with the current example weights w; with its weighted error
    err_m = sum_i w_i [h_m(x_i) != y_i], it gets the vote alpha_m = log((1 - err_m)/err_m) + log(K - 1) and the
    misclassified weights are multiplied by exp(alpha_m), then renormalized. A member no better than chance
    (err_m >= 1 - 1/K) ends the boosting. forward(x) returns the class scores sum_m alpha_m [h_m(x) = k], (N, K)."""

    def __init__(self, make_model, k: int, generator=None):
        super().__init__()
        if isinstance(make_model, Module) or not callable(make_model):
            raise TypeError(f"AdaBoost: make_model must be a callable returning a new Module, "
                            f"got {type(make_model).__name__}")
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"AdaBoost: k must be a positive int, got {k!r}")
        self.make_model, self.k = make_model, int(k)
        self._rng = _host_rng(generator)
        self.members = ModuleList([])
        self.alphas, self.errors, self.sample_weights = [], [], None
        self.n_classes = None

    def fit(self, x, y, *, n_classes=None, loss="cross_entropy", optimizer="adam", epochs=10, batch_size=32, lr=None,
            verbose=0, **fit_kwargs):
        """Boost up to k members (``shendu.train.fit`` on each weighted resample); returns the weighted errors."""
        from ..backend import to_host
        from ..train import fit, predict

        yh = to_host(y._data) if isinstance(y, Tensor) else np.asarray(y)
        n = len(yh)
        if len(x) != n:
            raise ValueError(f"AdaBoost.fit: x and y differ in length ({len(x)} vs {n})")
        K = int(n_classes if n_classes is not None else yh.max() + 1)
        if K < 2:
            raise ValueError(f"AdaBoost.fit: need at least 2 classes, got {K}")
        self.n_classes = K
        w = np.full(n, 1.0 / n)
        members, self.alphas, self.errors = [], [], []
        for _ in range(self.k):
            idx = self._rng.choice(n, size=n, replace=True, p=w).astype(np.int64)
            model = self.make_model()
            fit(model, (_take(x, idx), _take(y, idx)), loss=loss, optimizer=optimizer, epochs=epochs,
                batch_size=batch_size, lr=lr, verbose=verbose, **fit_kwargs)
            wrong = predict(model, x).argmax(axis=-1) != yh
            err = float(np.clip(np.sum(w[wrong]), 1e-10, None))
            self.errors.append(err)
            if err >= 1.0 - 1.0 / K:
                break
            alpha = math.log((1.0 - err) / err) + math.log(K - 1)
            members.append(model)
            self.alphas.append(alpha)
            w = w * np.exp(alpha * wrong)
            w /= w.sum()
        self.sample_weights = w
        self.members = ModuleList(members)
        return list(self.errors)

    def forward(self, x):
        if len(self.members) == 0:
            raise ValueError("AdaBoost: no members (call .fit first)")
        from ..ops.index import one_hot

        scores = None
        for a, m in zip(self.alphas, self.members):
            out = m(x)
            vote = one_hot(out.argmax(dim=-1), self.n_classes).to(out.dtype)  # [h_m(x) = k]
            scores = vote * a if scores is None else scores + vote * a
        return scores

    def extra_repr(self):
        return f"k={len(self.members)}/{self.k}"
