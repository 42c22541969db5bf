"""Encoder-decoder (sequence-to-sequence) RNN with optional attention (textbook 10.4, 12.4.5.1; seeds' chatbot).

Encoder RNN reads the source; its final state initialises the decoder RNN (context C = h_{n_x},
textbook 10.4). With ``attention`` ('dot', 'general' or 'additive') each decoder output h_t attends
over all encoder states (Luong et al. 2015 global attention): c_t = sum_s a_ts e_s,
h~_t = tanh(W_c [h_t; c_t]) and logits = W_o h~_t. Training is teacher-forced (textbook 10.2.1) or mixes
in the model's own predictions (``teacher_forcing_ratio`` < 1, free-running). Decoding: ``greedy`` and
``beam_search`` (several candidates ranked by length-normalised log-probability) and ``sample`` (ancestral
sampling with temperature, top-k or nucleus top-p). ``decoder_hidden_size`` different from ``hidden_size``
adds a bridge h_dec0 = tanh(W_b h_enc + b_b) per layer (textbook 10.4: the two sizes need not match).
``teacher_forcing_schedule`` gives scheduled-sampling curricula (Bengio et al. 2015; textbook 10.2.1) to feed
``forward``/``loss`` a ratio per training step.

Token ids: ``pad_idx`` (0), ``sos_idx`` (1), ``eos_idx`` (2) by default. src (B, S), tgt (B, T) int arrays
or Tensors, on the host or the model's device (ids are moved to the model's device; the source lengths,
which the recurrent layers pack by, and the decoders' stopping and ranking are worked out on the host).
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import _wrap, array_of
from ..backend import device_of, generator_for, namespace_of, to_device, to_device_of, to_host
from ..nn import functional as F
from ..nn.layers.attention import AdditiveAttention, DotAttention, GeneralAttention
from ..nn.layers.embedding import Embedding
from ..nn.layers.linear import Linear
from ..nn.layers.recurrent import GRU, LSTM, RNN
from ..nn.module import Module
from ..ops import cat, log_softmax

__all__ = ["Seq2Seq", "teacher_forcing_schedule"]

_CELLS = {"GRU": GRU, "LSTM": LSTM, "RNN": RNN}


class Seq2Seq(Module):
    """Embedding + encoder RNN + decoder RNN (+ attention) + vocabulary projection.

    Defaults follow the seeds' chatbot: GRU, 3 layers, 256 units, shared embedding."""

    def __init__(self, src_vocab, tgt_vocab=None, emb_dim=256, hidden_size=256, num_layers=3, cell="GRU",
                 attention=None, dropout=0.0, share_embedding=True, pad_idx=0, sos_idx=1, eos_idx=2, dtype=None,
                 decoder_hidden_size=None):
        super().__init__()
        tgt_vocab = src_vocab if tgt_vocab is None else tgt_vocab
        cell = cell.upper()
        if cell not in _CELLS:
            raise ValueError(f"Seq2Seq: cell must be one of {sorted(_CELLS)}, got {cell!r}")
        if share_embedding and tgt_vocab != src_vocab:
            raise ValueError(f"Seq2Seq: share_embedding needs equal vocabularies, got {src_vocab} and {tgt_vocab}")
        self.src_vocab, self.tgt_vocab, self.cell, self.attention_kind = src_vocab, tgt_vocab, cell, attention
        self.pad_idx, self.sos_idx, self.eos_idx = pad_idx, sos_idx, eos_idx
        self.src_emb = Embedding(src_vocab, emb_dim, padding_idx=pad_idx, dtype=dtype)
        self.tgt_emb = (self.src_emb if share_embedding
                        else Embedding(tgt_vocab, emb_dim, padding_idx=pad_idx, dtype=dtype))
        R = _CELLS[cell]
        H_dec = hidden_size if decoder_hidden_size is None else decoder_hidden_size
        self.encoder = R(emb_dim, hidden_size, num_layers, batch_first=True, dropout=dropout, dtype=dtype)
        self.decoder = R(emb_dim, H_dec, num_layers, batch_first=True, dropout=dropout, dtype=dtype)
        self.hidden_size, self.decoder_hidden_size = hidden_size, H_dec
        self.bridge = Linear(hidden_size, H_dec, dtype=dtype) if H_dec != hidden_size else None
        if attention is None:
            self.attn = None
            self.combine = None
        else:
            if attention == "dot":
                if H_dec != hidden_size:
                    raise ValueError(f"Seq2Seq: 'dot' attention needs equal encoder and decoder sizes, got "
                                     f"{hidden_size} and {H_dec}; use 'general' or 'additive'")
                self.attn = DotAttention()
            elif attention == "general":
                self.attn = GeneralAttention(H_dec, hidden_size, dtype=dtype)
            elif attention == "additive":
                self.attn = AdditiveAttention(H_dec, hidden_size, dtype=dtype)
            else:
                raise ValueError(f"Seq2Seq: attention must be None, 'dot', 'general' or 'additive', got {attention!r}")
            self.combine = Linear(H_dec + hidden_size, H_dec, dtype=dtype)
        self.out = Linear(H_dec, tgt_vocab, dtype=dtype)

    # --- pieces ------------------------------------------------------------------------------
    def _ids_on_device(self, ids):
        """Token ids as a Tensor on the model's device (the embedding table's)."""
        return _wrap(to_device_of(ids, self.src_emb.weight))

    def _bridge(self, state):
        """The encoder's final state mapped to the decoder's size: tanh(W_b h + b_b) per layer (and cell)."""
        if self.bridge is None:
            return state
        if isinstance(state, tuple):
            return tuple(self.bridge(s).tanh() for s in state)
        return self.bridge(state).tanh()

    def encode(self, src, src_lengths=None):
        """src (B, S) ids -> (encoder outputs (B, S, H), final state (bridged to the decoder's size), source
        mask (B, S) on the model's device, or None)."""
        src = array_of(src)
        if src.ndim != 2:
            raise ValueError(f"Seq2Seq: expected src of shape (B, S), got {src.shape}")
        if src_lengths is None:
            lens = to_host((src != self.pad_idx).sum(1))  # the layers pack by host lengths: one small copy
            src_lengths = None if np.all(lens == src.shape[1]) else np.maximum(lens, 1)
        else:
            src_lengths = to_host(array_of(src_lengths))
        enc, state = self.encoder(self.src_emb(self._ids_on_device(src)), lengths=src_lengths)
        mask = None if src_lengths is None else to_device(np.arange(src.shape[1])[None] < src_lengths[:, None],
                                                          device_of(enc._data))
        return enc, self._bridge(state), mask

    def _project(self, dec, enc, mask):
        """Decoder outputs (B, T, H) -> logits (B, T, V) (with attention if configured), attention weights."""
        w = None
        if self.attn is not None:
            ctx, w = self.attn(dec, enc, mask=mask)
            dec = self.combine(cat([dec, ctx], -1)).tanh()
        B, T, H = dec.shape
        return self.out(dec.reshape(B * T, H)).reshape(B, T, -1), w

    def decode_step(self, tokens, state, enc, mask):
        """One decoder step: tokens (B,) -> (logits (B, V), new state, attention weights (B, S) or None)."""
        dec, state = self.decoder(self.tgt_emb(self._ids_on_device(array_of(tokens).reshape(-1, 1))), state)
        logits, w = self._project(dec, enc, mask)
        return logits[:, 0], state, (None if w is None else w[:, 0])

    # --- training ----------------------------------------------------------------------------
    def forward(self, src, tgt_in, src_lengths=None, teacher_forcing_ratio=1.0, feed="argmax", temperature=1.0):
        """Logits (B, T, V) for decoder inputs tgt_in (B, T) (starting with <sos>). With ratio < 1 each
        step feeds the model's own prediction instead of the true token with probability 1 - ratio
        (scheduled sampling): its argmax (``feed='argmax'``) or a sample of softmax(logits / temperature)
        (``feed='sample'``, textbook 10.2.1: "the model's output or a sample")."""
        if feed not in ("argmax", "sample"):
            raise ValueError(f"Seq2Seq: feed must be 'argmax' or 'sample', got {feed!r}")
        if not 0.0 <= float(teacher_forcing_ratio) <= 1.0:
            raise ValueError(f"Seq2Seq: teacher_forcing_ratio must lie in [0, 1], got {teacher_forcing_ratio}")
        enc, state, mask = self.encode(src, src_lengths)
        tgt_in = self._ids_on_device(array_of(tgt_in))
        if teacher_forcing_ratio >= 1.0:
            dec, _ = self.decoder(self.tgt_emb(tgt_in), state)
            return self._project(dec, enc, mask)[0]
        from ..ops import stack
        tgt_in = tgt_in._data
        xp, rng = namespace_of(tgt_in), generator_for(tgt_in)  # the draws on the model's device
        tok = tgt_in[:, 0]
        outs = []
        for t in range(tgt_in.shape[1]):
            logits, state, _ = self.decode_step(tok, state, enc, mask)
            outs.append(logits)
            if t + 1 < tgt_in.shape[1]:
                use_true = rng.random(tgt_in.shape[0]) < teacher_forcing_ratio
                own = logits._data.argmax(-1) if feed == "argmax" else _sample(logits, temperature)
                tok = xp.where(use_true, tgt_in[:, t + 1], own)
        return stack(outs, 1)

    def loss(self, src, tgt, src_lengths=None, teacher_forcing_ratio=1.0, feed="argmax"):
        """Mean token cross-entropy of tgt[:, 1:] given tgt[:, :-1] (tgt = <sos> ... <eos> <pad>...)."""
        tgt = array_of(tgt)
        logits = self(src, tgt[:, :-1], src_lengths, teacher_forcing_ratio, feed)
        return F.cross_entropy(logits.reshape(-1, self.tgt_vocab), tgt[:, 1:].reshape(-1), ignore_index=self.pad_idx)

    # --- inference ---------------------------------------------------------------------------
    def greedy(self, src, max_len=50, src_lengths=None):
        """Greedy decoding: a list (per source) of token-id lists, without <sos>/<eos>."""
        return self._decode(src, max_len, src_lengths, lambda logits: logits._data.argmax(-1))

    def sample(self, src, max_len=50, src_lengths=None, temperature=1.0, top_k=None, top_p=None):
        """Ancestral sampling: each token drawn from softmax(logits / temperature), optionally restricted to
        the top_k tokens or the nucleus of mass top_p, and fed back. A list of token-id lists (no <sos>/<eos>)."""
        return self._decode(src, max_len, src_lengths, lambda logits: _sample(logits, temperature, top_k, top_p))

    def _decode(self, src, max_len, src_lengths, pick):
        """Feed back ``pick(logits) -> token ids (B,)`` from <sos> until every sequence emits <eos> or max_len
        steps; a list (per source) of token-id lists without <sos>/<eos>."""
        with no_grad():
            enc, state, mask = self.encode(src, src_lengths)
            B = enc.shape[0]
            tok = namespace_of(enc._data).full(B, self.sos_idx)
            out = [[] for _ in range(B)]
            done = np.zeros(B, bool)
            for _ in range(max_len):
                logits, state, _ = self.decode_step(tok, state, enc, mask)
                tok = pick(logits)
                tok_h = to_host(tok)  # the bookkeeping runs on the host: one small copy per step
                for b in range(B):
                    if not done[b]:
                        if tok_h[b] == self.eos_idx:
                            done[b] = True
                        else:
                            out[b].append(int(tok_h[b]))
                if done.all():
                    break
        return out

    def beam_search(self, src, beam_width=5, max_len=50, num_return=None, length_penalty=1.0):
        """Beam search for one source sequence (S,) or (1, S): a list of (tokens, score) best first,
        score = sum of log-probabilities / length**length_penalty (length counts <eos>)."""
        src = array_of(src).reshape(1, -1)
        num_return = beam_width if num_return is None else num_return
        with no_grad():
            enc, state, mask = self.encode(src)
            beams = [([], 0.0, state)]
            finished = []
            for _ in range(max_len):
                k = len(beams)
                toks = np.array([b[0][-1] if b[0] else self.sos_idx for b in beams])
                st = self._stack_states([b[2] for b in beams])
                enc_k = enc.expand(k, *enc.shape[1:])
                mask_k = None if mask is None else namespace_of(mask).repeat(mask, k, 0)
                logits, st, _ = self.decode_step(toks, st, enc_k, mask_k)
                lp = to_host(log_softmax(logits, -1)._data)  # the candidates are ranked on the host
                cand = []
                for i, (_seq, score, _) in enumerate(beams):
                    top = np.argpartition(-lp[i], min(beam_width, lp.shape[1] - 1))[:beam_width]
                    for j in top:
                        cand.append((score + float(lp[i, j]), i, int(j)))
                cand.sort(key=lambda c: -c[0])
                prev = beams
                beams = []
                for score, i, j in cand:
                    if j == self.eos_idx:
                        finished.append((prev[i][0], score))
                    else:
                        beams.append((prev[i][0] + [j], score, self._slice_state(st, i)))
                    if len(beams) >= beam_width:
                        break
                # stop when enough hypotheses ended and no live beam can still beat the best of them
                if not beams or (len(finished) >= num_return and max(s for _, s in finished) >= beams[0][1]):
                    break
            finished += [(seq, score) for seq, score, _ in beams]
        norm = [(seq, score / max(len(seq) + 1, 1) ** length_penalty) for seq, score in finished]
        norm.sort(key=lambda c: -c[1])
        return norm[:num_return]

    def _stack_states(self, states):
        from ..ops import cat as _cat
        if isinstance(states[0], tuple):
            return tuple(_cat([s[i] for s in states], 1) for i in range(len(states[0])))
        return _cat(states, 1)

    @staticmethod
    def _slice_state(st, i):
        if isinstance(st, tuple):
            return tuple(s[:, i:i + 1] for s in st)
        return st[:, i:i + 1]


def _sample(logits, temperature=1.0, top_k=None, top_p=None):
    from ..nn.layers.rnn_variants import sample_logits

    return sample_logits(logits, temperature, top_k, top_p)


def teacher_forcing_schedule(kind="inverse_sigmoid", k=None, c=None, eps=0.0):
    """Scheduled sampling (Bengio et al. 2015): the probability eps_i of feeding the true token at training
    step i (a callable i -> ratio, for ``Seq2Seq.forward(teacher_forcing_ratio=...)``):

    'linear': max(eps, k - c i) (k = 1, c the decrease per step);  'exponential': k^i (k < 1);
    'inverse_sigmoid': k / (k + exp(i / k)) (k >= 1);  'constant': k. Ratios stay in [eps, 1]."""
    if kind == "linear":
        k, c = 1.0 if k is None else float(k), 1e-3 if c is None else float(c)
        f = lambda i: k - c * i  # noqa: E731
    elif kind == "exponential":
        k = 0.999 if k is None else float(k)
        if not 0 < k < 1:
            raise ValueError(f"teacher_forcing_schedule: 'exponential' needs 0 < k < 1, got {k}")
        f = lambda i: k ** i  # noqa: E731
    elif kind == "inverse_sigmoid":
        k = 100.0 if k is None else float(k)
        if k < 1:
            raise ValueError(f"teacher_forcing_schedule: 'inverse_sigmoid' needs k >= 1, got {k}")
        f = lambda i: k / (k + np.exp(min(i / k, 700.0)))  # noqa: E731
    elif kind == "constant":
        k = 1.0 if k is None else float(k)
        f = lambda i: k  # noqa: E731
    else:
        raise ValueError(f"teacher_forcing_schedule: kind must be linear, exponential, inverse_sigmoid or "
                         f"constant, got {kind!r}")
    return lambda i: float(min(1.0, max(float(eps), f(i))))
