"""Connectionist temporal classification loss (Graves et al. 2006; textbook 12.3 names CTC for speech).

A label sequence l (length L) is extended with blanks: l' = (b, l_1, b, l_2, ..., l_L, b), |l'| = 2L + 1.
Forward (alpha) and backward (beta) recursions in log space over the frames t = 0..T-1:

    alpha_t(s) = lp_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1),
                                        [alpha_{t-1}(s-2) if l'_s != b and l'_s != l'_{s-2}])
    beta_t(s)  = lp_t(l'_s) + logsumexp(beta_{t+1}(s), beta_{t+1}(s+1), [beta_{t+1}(s+2) if l'_{s+2} != b, != l'_s])
    -log p(l | x) = -logsumexp(alpha_{T-1}(|l'|-1), alpha_{T-1}(|l'|-2))

and d(-log p)/d lp_t(c) = -sum_{s: l'_s = c} exp(alpha_t(s) + beta_t(s) - lp_t(l'_s) + log p).

Shapes and semantics as ``torch.nn.functional.ctc_loss``: log_probs (T, N, C) (or (T, C)), log-softmax outputs;
targets (N, S) padded or 1-D concatenated; input_lengths, target_lengths (N,); reduction 'none' -> (N,),
'sum', 'mean' (each loss divided by its target length, clamped to >= 1, then averaged over the batch);
``zero_infinity`` sets impossible alignments' losses and gradients to 0.
One difference, documented: the gradient here is the true derivative with respect to ``log_probs``.
torch returns exp(lp) + that (its derivative through the log-softmax it assumes); both give the same
gradient for the logits once the log_softmax is back-propagated, which is what the tests compare.
The recursions run on the device of log_probs (the label bookkeeping is built on the host).
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor import Tensor, _wrap
from ...backend import device_of, to_device, to_host

__all__ = ["ctc_loss", "ctc_alignment_posteriors"]

_NEG = -np.inf


def _host_ints(x, name):
    if isinstance(x, Tensor):
        x = to_host(x._data)
    elif hasattr(x, "__array__") and not isinstance(x, np.ndarray):
        x = to_host(x)
    a = np.asarray(x)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.all(a == np.round(a)):
            raise TypeError(f"ctc_loss: {name} must be integers, got {a.dtype}")
    return a.astype(np.int64)


class _Labels:
    """Host bookkeeping for a batch: extended labels (N, S'), skip-allowed mask, lengths."""

    def __init__(self, targets, input_lengths, target_lengths, N, T, C, blank):
        tl = _host_ints(target_lengths, "target_lengths")
        il = _host_ints(input_lengths, "input_lengths")
        if tl.shape != (N,) or il.shape != (N,):
            raise ValueError(f"ctc_loss: input_lengths {il.shape} and target_lengths {tl.shape} must both be ({N},)")
        if np.any(il < 0) or np.any(il > T):
            raise ValueError(f"ctc_loss: input_lengths must lie in [0, {T}], got {il.tolist()}")
        if np.any(tl < 0):
            raise ValueError(f"ctc_loss: target_lengths must be >= 0, got {tl.tolist()}")
        tg = _host_ints(targets, "targets")
        if tg.ndim == 1 and tg.size != tl.sum():
            raise ValueError(f"ctc_loss: 1-D (concatenated) targets must hold sum(target_lengths) = {tl.sum()} "
                             f"labels, got {tg.size}")
        if tg.ndim == 1:
            offs = np.concatenate([[0], np.cumsum(tl)])
            rows = [tg[offs[n]:offs[n + 1]] for n in range(N)]
        elif tg.ndim == 2:
            if tg.shape[0] != N or (N and tl.max(initial=0) > tg.shape[1]):
                raise ValueError(f"ctc_loss: padded targets {tg.shape} must be ({N}, >= max(target_lengths) = "
                                 f"{tl.max(initial=0)})")
            rows = [tg[n, :tl[n]] for n in range(N)]
        else:
            raise ValueError(f"ctc_loss: targets must be (N, S) or 1-D, got shape {tg.shape}")
        if not 0 <= blank < C:
            raise ValueError(f"ctc_loss: blank {blank} outside [0, {C})")
        for r in rows:
            if r.size and (r.min() < 0 or r.max() >= C or np.any(r == blank)):
                raise ValueError(f"ctc_loss: target labels must lie in [0, {C}) and differ from blank={blank}, "
                                 f"got {r.tolist()}")
        Lmax = int(tl.max(initial=0))
        S = 2 * Lmax + 1
        ext = np.full((N, S), blank, np.int64)
        for n, r in enumerate(rows):
            ext[n, 1:2 * len(r):2] = r
        skip = np.zeros((N, S), bool)  # alpha_t(s) may come from s - 2
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        self.ext, self.skip, self.il, self.tl, self.S = ext, skip, il, tl, S
        self.rows = rows


def _shift(a, k, xp, fill):
    """a (N, S) shifted right by k along S (k < 0: left), filled with ``fill``."""
    if k == 0:
        return a
    if abs(k) >= a.shape[1]:
        return xp.full(a.shape, fill, dtype=a.dtype)
    pad = xp.full((a.shape[0], abs(k)), fill, dtype=a.dtype)
    if k > 0:
        return xp.concatenate([pad, a[:, :-k]], 1)
    return xp.concatenate([a[:, -k:], pad], 1)


def _forward_backward(lp, lab, xp, with_beta=True):
    """(nll (N,), gamma (T, N, S) = log(alpha beta / y), or None without beta, extended labels) on lp's device."""
    T, N, C = lp.shape
    dev = device_of(lp)
    S = lab.S
    ext = to_device(lab.ext, dev)
    skip = to_device(lab.skip, dev)
    skip_next = _shift(skip, -2, xp, False)  # beta_t(s) may come from s + 2 when skip[s + 2]
    il = to_device(lab.il, dev)
    sl = to_device(2 * lab.tl + 1, dev)  # |l'| per sample
    lpe = xp.take_along_axis(lp, xp.broadcast_to(ext[None], (T, N, S)), axis=2)  # (T, N, S)
    neg = xp.asarray(_NEG, dtype=lp.dtype)
    s_idx = to_device(np.arange(S), dev)[None, :]
    valid = s_idx < sl[:, None]  # (N, S) positions inside each l'
    alpha = xp.full((T, N, S), _NEG, dtype=lp.dtype)
    if T:
        a0 = xp.where(s_idx < 2, lpe[0], neg)
        alpha[0] = xp.where(valid, a0, neg)
    for t in range(1, T):
        prev = alpha[t - 1]
        a = xp.logaddexp(prev, _shift(prev, 1, xp, _NEG))
        a = xp.where(skip, xp.logaddexp(a, _shift(prev, 2, xp, _NEG)), a)
        alpha[t] = xp.where(valid, a + lpe[t], neg)
    n_idx = to_device(np.arange(N), dev)
    last_t = xp.maximum(il - 1, 0)
    aT = alpha[last_t, n_idx]  # (N, S)
    end1 = xp.take_along_axis(aT, (sl - 1)[:, None], axis=1)[:, 0]
    end2 = xp.take_along_axis(aT, xp.maximum(sl - 2, 0)[:, None], axis=1)[:, 0]
    end2 = xp.where(sl >= 2, end2, neg)
    logp = xp.logaddexp(end1, end2)
    logp = xp.where(il > 0, logp, xp.where(_tl_zero(lab, dev, xp), 0.0, neg).astype(lp.dtype))
    if not with_beta:
        return -logp, None, ext
    # beta, started at each sample's own last frame
    beta = xp.full((T, N, S), _NEG, dtype=lp.dtype)
    at_end = (s_idx == (sl - 1)[:, None]) | (s_idx == (sl - 2)[:, None])
    nxt = xp.full((N, S), _NEG, dtype=lp.dtype)
    for t in range(T - 1, -1, -1):
        b = xp.logaddexp(nxt, _shift(nxt, -1, xp, _NEG))
        b = xp.where(skip_next, xp.logaddexp(b, _shift(nxt, -2, xp, _NEG)), b)
        b = b + lpe[t]
        start = (il - 1 == t)[:, None]
        b = xp.where(start, xp.where(at_end, lpe[t], neg), xp.where((il - 1 > t)[:, None], b, neg))
        b = xp.where(valid, b, neg)
        beta[t] = b
        nxt = b
    gamma = alpha + beta - lpe  # log(alpha_t(s) beta_t(s) / y_t(l'_s))
    return -logp, gamma, ext


def _tl_zero(lab, dev, xp):
    return to_device(lab.tl == 0, dev)


def _grad_from_gamma(gamma, nll, ext, C, xp, dtype):
    """d nll / d lp (T, N, C): -sum_{s: l'_s = c} exp(gamma_t(s) + log p)."""
    T, N, S = gamma.shape
    finite = xp.isfinite(nll)
    nll_safe = xp.where(finite, nll, 0.0)
    post = xp.exp(gamma + nll_safe[None, :, None])  # posterior of state s at t (0 past each input length)
    onehot = (ext[:, :, None] == xp.arange(C)[None, None, :]).astype(dtype)  # (N, S, C)
    g = -xp.einsum("tns,nsc->tnc", post, onehot)
    return xp.where(finite[None, :, None], g, xp.asarray(np.nan, dtype=dtype)).astype(dtype)


class _CTCGrad(Function):
    """d(-log p)/d log_probs by the alpha-beta recursion (the backward of ``_CTCLoss``). Not twice differentiable."""

    def __init__(self, lab, blank, cached=None):
        self.lab, self.blank, self.cached = lab, blank, cached

    def forward(self, lp):
        if self.cached is not None:
            return self.cached
        xp = self.xp
        nll, gamma, ext = _forward_backward(lp, self.lab, xp)
        return _grad_from_gamma(gamma, nll, ext, lp.shape[2], xp, lp.dtype)

    def backward(self, gy):
        raise NotImplementedError("ctc_loss: double backward (the Hessian of the CTC loss) is not implemented")


class _CTCLoss(Function):
    """Per-sample CTC negative log-likelihood (N,) of log_probs (T, N, C)."""

    def __init__(self, lab, blank, zero_infinity, need_grad=True):
        self.lab, self.blank, self.zero_infinity, self.need_grad = lab, blank, zero_infinity, need_grad

    def forward(self, lp):
        xp = self.xp
        nll, gamma, ext = _forward_backward(lp, self.lab, xp, with_beta=self.need_grad)
        inf = ~xp.isfinite(nll)
        if self.need_grad:  # the gradient comes from the same alpha-beta pass; kept for backward
            g = _grad_from_gamma(gamma, nll, ext, lp.shape[2], xp, lp.dtype)
            if self.zero_infinity:
                g = xp.where(inf[None, :, None], 0.0, g).astype(lp.dtype)
            self.saved = (g,)
        if self.zero_infinity:
            nll = xp.where(inf, 0.0, nll)
        return nll.astype(lp.dtype)

    def backward(self, gy):
        (lp,) = self.inputs
        g = _CTCGrad(self.lab, self.blank, cached=self.saved[0])(lp)
        return gy.reshape(1, -1, 1) * g


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """CTC negative log-likelihood of label sequences given per-frame log-probabilities (see module docstring).

    log_probs (T, N, C) or (T, C); targets (N, S) or 1-D concatenated; lengths (N,). Returns (N,) for
    reduction='none', else a scalar ('mean': sum_n loss_n / max(L_n, 1) / N, as torch)."""
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"ctc_loss: log_probs must be a Tensor, got {type(log_probs).__name__}")
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"ctc_loss: reduction must be 'none', 'sum' or 'mean', got {reduction!r}")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = _host_ints(targets, "targets").reshape(1, -1)
        input_lengths = _host_ints(input_lengths, "input_lengths").reshape(1)
        target_lengths = _host_ints(target_lengths, "target_lengths").reshape(1)
    if log_probs.ndim != 3:
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got {tuple(log_probs.shape)}")
    T, N, C = log_probs.shape
    lab = _Labels(targets, input_lengths, target_lengths, N, T, C, int(blank))
    need = log_probs.requires_grad and is_grad_enabled()
    losses = _CTCLoss(lab, int(blank), bool(zero_infinity), need)(log_probs)
    if reduction == "none":
        return losses[0] if unbatched else losses
    if reduction == "sum":
        return losses.sum()
    div = to_device(np.maximum(lab.tl, 1).astype(np.dtype(losses._data.dtype)), device_of(log_probs._data))
    return (losses / _wrap(div)).mean()


def ctc_alignment_posteriors(log_probs, targets, input_lengths, target_lengths, blank=0):
    """Host helper: per-frame label posteriors gamma (T, N, C) = sum_{s: l'_s = c} P(pi_t = s | l, x) (rows sum
    to 1 on the frames of each sample); also a check of the forward-backward recursion."""
    lp = log_probs._data if isinstance(log_probs, Tensor) else log_probs
    lp = to_host(lp)
    T, N, C = lp.shape
    lab = _Labels(targets, input_lengths, target_lengths, N, T, C, int(blank))
    nll, gamma, ext = _forward_backward(lp, lab, np)
    return -_grad_from_gamma(gamma, nll, ext, C, np, lp.dtype)
