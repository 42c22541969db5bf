"""``shendu.nn.utils.rnn`` (torch.nn.utils.rnn): pad variable-length sequences; PyTorch's packed layout.

``PackedSequence`` holds PyTorch's representation (time-major ``data`` of the non-padded steps, ``batch_sizes``
per step, ``sorted_indices``/``unsorted_indices``). shendu's recurrent layers take padded input with
``lengths=``; given a PackedSequence they unpack it, run with ``lengths=`` and repack the output."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...autograd.tensor import Tensor, tensor


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *) with batch_first), padded.

    Differentiable."""
    from ...ops import pad, stack

    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    T = max(s.shape[0] for s in seqs)
    out = []
    for s in seqs:
        extra = T - s.shape[0]
        widths = [0, 0] * (s.ndim - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
        out.append(pad(s, tuple(widths), value=padding_value) if extra else s)
    return stack(out, dim=0 if batch_first else 1)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """PyTorch's packed batch: ``data`` (sum L_i, *) time-major over the sequences sorted by decreasing length."""


def _lengths(lengths):
    arr = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
    return arr.astype(np.int64).reshape(-1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *)) with the given sequence lengths (differentiable in ``data``)."""
    lens = _lengths(lengths)
    if enforce_sorted and np.any(np.diff(lens) > 0):
        raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True; pass enforce_sorted=False to pack unsorted sequences")
    if lens.size and (lens.min() <= 0 or lens.max() > input.shape[1 if batch_first else 0]):
        raise ValueError(
            f"pack_padded_sequence: lengths must lie in [1, {input.shape[1 if batch_first else 0]}], "
            f"got {lens.tolist()}"
        )
    order = np.argsort(-lens, kind="stable")
    x = input.transpose(0, 1) if batch_first else input
    sl = lens[order]
    batch_sizes = np.array([(sl > t).sum() for t in range(int(sl[0]))], dtype=np.int64)
    data = _pack_steps(x, order, batch_sizes)
    sorted_idx = None if enforce_sorted else tensor(order)
    unsorted_idx = None if enforce_sorted else tensor(np.argsort(order))
    return PackedSequence(data, tensor(batch_sizes), sorted_idx, unsorted_idx)


def _pack_steps(x, order, batch_sizes):
    """Concatenate step t of the time-major padded x (T, B, *) for the first batch_sizes[t] sequences of ``order``."""
    from ...ops import cat

    return cat([x[t][order[:int(b)]] for t, b in enumerate(batch_sizes)], dim=0)


def repack_like(padded, packed, batch_first=False):
    """Pack a padded (T, B, *) batch in the layout of ``packed`` (its batch_sizes and sorted_indices)."""
    x = padded.transpose(0, 1) if batch_first else padded
    bs = _lengths(packed.batch_sizes)
    order = np.arange(int(bs[0])) if packed.sorted_indices is None else _lengths(packed.sorted_indices)
    return PackedSequence(_pack_steps(x, order, bs), packed.batch_sizes, packed.sorted_indices,
                          packed.unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths int64 tensor)."""
    data, bs = sequence.data, _lengths(sequence.batch_sizes)
    B = int(bs[0])
    lens = np.array([(bs > i).sum() for i in range(B)], dtype=np.int64)  # sorted order
    steps, pos = [], 0
    for b in bs:
        steps.append(data[pos:pos + int(b)])
        pos += int(b)
    seqs = [_gather_seq(steps, i, lens[i]) for i in range(B)]
    if sequence.unsorted_indices is not None:
        inv = _lengths(sequence.unsorted_indices)
        seqs, lens = [seqs[i] for i in inv], lens[inv]
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=padding_value)
    if total_length is not None and total_length > out.shape[1 if batch_first else 0]:
        from ...ops import pad

        extra = total_length - out.shape[1 if batch_first else 0]
        widths = [0, 0] * (out.ndim - 2) + ([0, extra, 0, 0] if batch_first else [0, 0, 0, extra])
        out = pad(out, tuple(widths), value=padding_value)
    return out, tensor(lens)


def _gather_seq(steps, i, n):
    from ...ops import stack

    return stack([steps[t][i] for t in range(int(n))], dim=0)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) tensors (pad_sequence then pack_padded_sequence)."""
    lens = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lens, enforce_sorted=enforce_sorted)


__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence"]
