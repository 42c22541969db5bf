"""Fused whole-sequence recurrent kernels: LSTM, GRU and Elman RNN forward + BPTT (textbook 10.2.2, 10.10).

One autograd Function runs the whole time loop: the input projection ``xproj`` (T, B, G*H),
computed by the caller as one GEMM for all steps, is added to one GEMM per step
``h W_hh^T`` for all gates. ``backward_array`` is a hand-written back-propagation through
time over the saved gate activations (textbook 10.2.2, eqs. 10.18-10.28), with the weight
gradient ``dW_hh = sum_t dA_t^T h_{t-1}`` as one GEMM after the loop. ``backward`` (used
only when a graph is recorded, e.g. double backward) recomputes the sequence with
differentiable shendu ops and differentiates it, so higher derivatives stay exact.

Gate layouts follow PyTorch: LSTM rows (i, f, g, o), GRU rows (r, z, n) with
n = tanh(x_n + r * (W_hn h + b_hn)). ``mask`` (T, B, 1) of 0/1 marks real steps: a padded
step leaves h (and c) unchanged and outputs zeros (PyTorch's packed-sequence semantics;
run in reverse this starts each sequence at its own last real step). The mask lives on the
device of the inputs. The kernels compute with ``self.xp``, the namespace of the inputs.

One module per cell family: ``lstm`` (LSTMSeq), ``gru`` (GRUSeq), ``elman`` (ElmanSeq); ``_base`` holds the
mask/direction handling and the recompute-and-differentiate ``backward`` they share.
"""
from ._base import _masked, _prev_states, _SeqBase, _sigmoid_  # noqa: F401
from .elman import ElmanSeq  # noqa: F401
from .gru import GRUSeq  # noqa: F401
from .lstm import LSTMSeq  # noqa: F401
