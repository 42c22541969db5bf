"""HMM acoustic models (textbook 12.3): the GMM-HMM and the hybrid DNN-HMM.

Each phone is a left-to-right HMM of ``n_states`` sub-phonemic states (beginning, middle, end), silence one
state; a phone loop joins them. Emissions: a diagonal Gaussian mixture per state (GMM-HMM), or, in the hybrid,
a neural network's state posteriors divided by the state priors, log p(x | s) = log P(s | x) - log P(s) + const.
Training is Viterbi training (segmental k-means): align each utterance to its transcript's state chain
(sil p_1 sil p_2 ... sil), fit the emissions on the aligned frames, realign. Decoding is Viterbi on the loop.
Host NumPy (log space); the hybrid's network is a shendu model.
"""
from __future__ import annotations

import numpy as np

__all__ = ["viterbi", "forward_loglik", "DiagGMM", "PhoneLoopHMM", "HybridDNNHMM"]

_NEG = -np.inf


def _lse(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def viterbi(log_emit, log_trans, log_init, log_final=None):
    """Most probable state path argmax_s log pi(s_1) + sum_t log A(s_{t-1}, s_t) + sum_t log b_{s_t}(x_t)
    (+ log_final(s_T)). log_emit (T, S), log_trans (S, S), log_init (S,) -> (path (T,), score)."""
    T, S = log_emit.shape
    delta = log_init + log_emit[0]
    back = np.zeros((T, S), np.int64)
    for t in range(1, T):
        cand = delta[:, None] + log_trans
        back[t] = cand.argmax(0)
        delta = cand.max(0) + log_emit[t]
    if log_final is not None:
        delta = delta + log_final
    path = np.zeros(T, np.int64)
    path[-1] = int(delta.argmax())
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path, float(delta.max())


def forward_loglik(log_emit, log_trans, log_init, log_final=None):
    """log p(x_1..x_T) = log sum over all state paths (the forward algorithm)."""
    a = log_init + log_emit[0]
    for t in range(1, len(log_emit)):
        a = _lse(a[:, None] + log_trans, 0) + log_emit[t]
    if log_final is not None:
        a = a + log_final
    return float(_lse(a, 0))


class DiagGMM:
    """Diagonal-covariance Gaussian mixture fitted by EM: log p(x) = log sum_k w_k N(x; mu_k, diag var_k)."""

    def __init__(self, n_components=1, var_floor=1e-3, n_iter=10, seed=0):
        self.K, self.var_floor, self.n_iter, self.seed = n_components, var_floor, n_iter, seed

    def _comp_logpdf(self, X):
        d = X[:, None, :] - self.mu[None]
        return (np.log(self.w)[None] - 0.5 * (np.log(2 * np.pi * self.var).sum(-1)[None]
                                              + (d * d / self.var[None]).sum(-1)))

    def fit(self, X):
        X = np.asarray(X, np.float64)
        n, D = X.shape
        K = min(self.K, n)
        rng = np.random.default_rng(self.seed)
        self.mu = X[rng.choice(n, K, replace=False)]
        self.var = np.tile(np.maximum(X.var(0), self.var_floor), (K, 1))
        self.w = np.full(K, 1.0 / K)
        for _ in range(self.n_iter if K > 1 else 1):
            if K > 1:
                lp = self._comp_logpdf(X)
                r = np.exp(lp - _lse(lp, 1)[:, None])
            else:
                r = np.ones((n, 1))
            nk = r.sum(0) + 1e-10
            self.w = nk / n
            self.mu = (r.T @ X) / nk[:, None]
            self.var = np.maximum((r.T @ (X * X)) / nk[:, None] - self.mu ** 2, self.var_floor)
        return self

    def score_samples(self, X):
        return _lse(self._comp_logpdf(np.asarray(X, np.float64)), 1)


class PhoneLoopHMM:
    """GMM-HMM phone recogniser: phones 1..n_phones with ``n_states`` left-to-right states each, silence
    (state 0) between them. State index of phone p, sub-state j: 1 + (p - 1) * n_states + j."""

    def __init__(self, n_phones, n_states=3, n_components=2, self_loop=0.6, seed=0):
        self.P, self.J, self.K, self.seed = n_phones, n_states, n_components, seed
        self.S = 1 + n_phones * n_states
        self.self_loop = self_loop
        self._build_loop()

    def state(self, p, j):
        return 1 + (p - 1) * self.J + j

    def _build_loop(self):
        S, J, a = self.S, self.J, self.self_loop
        A = np.zeros((S, S))
        entries = [0] + [self.state(p, 0) for p in range(1, self.P + 1)]
        exits = [0] + [self.state(p, J - 1) for p in range(1, self.P + 1)]
        for s in range(S):
            A[s, s] = a
        for p in range(1, self.P + 1):
            for j in range(J - 1):
                A[self.state(p, j), self.state(p, j + 1)] = 1 - a
        for e in exits:  # leave silence or a phone's last state for any entry (another phone or silence)
            for n in entries:
                if n != e:
                    A[e, n] += (1 - a) / (len(entries) - 1)
        with np.errstate(divide="ignore"):
            self.log_trans = np.log(A)
            init = np.zeros(S)
            init[entries] = 1.0 / len(entries)
            self.log_init = np.log(init)

    def chain(self, labels):
        """The transcript's state sequence: sil, phone states, sil, ..., sil."""
        out = [0]
        for p in labels:
            out += [self.state(p, j) for j in range(self.J)] + [0]
        return out

    def align(self, log_emit, labels):
        """Forced alignment of frames to the transcript's state chain: (T,) state ids."""
        ch = np.array(self.chain(labels))
        L = len(ch)
        T = log_emit.shape[0]
        if T < L:
            raise ValueError(f"PhoneLoopHMM.align: {T} frames cannot hold {L} states")
        A = np.full((L, L), _NEG)
        a = self.self_loop
        for i in range(L):
            A[i, i] = np.log(a)
            if i + 1 < L:
                A[i, i + 1] = np.log(1 - a)
        init = np.full(L, _NEG)
        init[0] = 0.0
        final = np.full(L, _NEG)
        final[-1] = 0.0
        path, _ = viterbi(log_emit[:, ch], A, init, final)
        return ch[path]

    @staticmethod
    def _uniform_alignment(T, chain):
        idx = np.minimum((np.arange(T) * len(chain)) // T, len(chain) - 1)
        return np.array(chain)[idx]

    def log_emissions(self, X):
        return np.stack([g.score_samples(X) for g in self.gmms], 1)

    def fit(self, feats, labels, n_iter=4):
        """Viterbi training on utterances feats[i] (T_i, D) with transcripts labels[i]; returns the alignments."""
        aligns = [self._uniform_alignment(len(x), self.chain(y)) for x, y in zip(feats, labels)]
        for it in range(n_iter + 1):
            X = np.concatenate(feats)
            Z = np.concatenate(aligns)
            self.gmms = [DiagGMM(self.K, seed=self.seed + s).fit(X[Z == s] if np.any(Z == s) else X)
                         for s in range(self.S)]
            if it < n_iter:
                aligns = [self.align(self.log_emissions(x), y) for x, y in zip(feats, labels)]
        self.alignments = aligns
        return aligns

    def states_to_phones(self, path):
        """Collapse a state path to phones: a phone is read when its state chain is entered."""
        out, prev = [], -1
        for s in path:
            s = int(s)
            if s != prev and s != 0 and (s - 1) % self.J == 0:
                out.append(1 + (s - 1) // self.J)
            prev = s
        return out

    def decode(self, X, log_emit=None):
        le = self.log_emissions(X) if log_emit is None else log_emit
        path, _ = viterbi(le, self.log_trans, self.log_init)
        return self.states_to_phones(path)


class HybridDNNHMM:
    """Hybrid DNN-HMM (textbook 12.3): a network trained on frames (with context) to predict the HMM states
    of a GMM-HMM's forced alignment; decoding uses log P(s | x) - log P(s) as scaled emission scores in the
    same phone-loop Viterbi. ``net``: a shendu Module mapping (N, D_in) to (N, S) logits."""

    def __init__(self, hmm, net):
        self.hmm, self.net = hmm, net

    def fit(self, frames, states, epochs=30, lr=0.01, batch_size=256, seed=0):
        from ..autograd.tensor import tensor
        from ..nn import functional as F
        from ..optim import Adam

        X = np.asarray(frames, np.float32)
        Z = np.asarray(states, np.int64)
        self.log_prior = np.log(np.bincount(Z, minlength=self.hmm.S) + 1.0) - np.log(len(Z) + self.hmm.S)
        opt = Adam(self.net.parameters(), lr=lr)
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            perm = rng.permutation(len(X))
            for i in range(0, len(X), batch_size):
                idx = perm[i:i + batch_size]
                loss = F.cross_entropy(self.net(tensor(X[idx])), Z[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return self

    def log_emissions(self, frames):
        from ..autograd.grad_mode import no_grad
        from ..autograd.tensor import tensor
        from ..backend import to_host

        with no_grad():
            lp = to_host(self.net(tensor(np.asarray(frames, np.float32))).log_softmax(-1)._data)
        return lp.astype(np.float64) - self.log_prior

    def decode(self, frames):
        return self.hmm.decode(None, self.log_emissions(frames))
