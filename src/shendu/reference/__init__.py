"""Textbook-literal reference implementations: the oracles the fast paths are tested against.

Each module writes one algorithm the way the textbook states it, on NumPy arrays with plain loops,
cited to its section. They are slow on purpose and are not product paths: they exist so a reader can
follow the math, and so tests/reference/ can check the optimized kernels against them.

- ``conv``: convolution as im2col by a slice loop plus one GEMM (textbook 9.1, 9.8), its input and
  weight gradients, a direct loop definition, transposed convolution as the input gradient.
- ``pool``: max and average pooling as a window loop and their backward (textbook 9.3; text 001, 7.2.2).
- ``rnn``: LSTM and GRU steps (textbook 10.10) and BPTT by hand (textbook 10.2.2).
- ``sgd``, ``adagrad``, ``rmsprop``, ``adam``: Algorithms 8.1-8.7, one step at a time.
- ``engine``: Algorithm 6.6 (back-propagation over shendu's recorded graph).
"""
from . import adagrad, adam, conv, engine, pool, rmsprop, rnn, sgd

__all__ = ["adagrad", "adam", "conv", "engine", "pool", "rmsprop", "rnn", "sgd"]
