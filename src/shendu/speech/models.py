"""Acoustic models for CTC (textbook 12.3: deep bidirectional LSTM, Graves et al. 2013)."""
from __future__ import annotations

from ..nn.layers.linear import Linear
from ..nn.layers.recurrent import LSTM
from ..nn.module import Module

__all__ = ["BiLSTMCTC"]


class BiLSTMCTC(Module):
    """Bidirectional LSTM + linear layer -> per-frame log-probabilities over blank + labels.

    x (T, N, n_in), lengths (N,) -> log_probs (T, N, n_classes) (for ``ctc_loss`` and the decoders)."""

    def __init__(self, n_in, hidden_size, n_classes, num_layers=1, dropout=0.0, dtype=None):
        super().__init__()
        self.rnn = LSTM(n_in, hidden_size, num_layers, bidirectional=True, dropout=dropout, dtype=dtype)
        self.proj = Linear(2 * hidden_size, n_classes, dtype=dtype)

    def forward(self, x, lengths=None):
        h, _ = self.rnn(x, lengths=lengths)
        return self.proj(h).log_softmax(-1)
