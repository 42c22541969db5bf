"""Model parallelism by layers with micro-batch pipelining (GPipe-style), and data-parallel inference (12.1.3).

PipelineParallel: rank r holds stage r of a model cut into consecutive groups of layers. A minibatch is split
into ``chunks`` micro-batches; every micro-batch flows forward through the stages (activations sent rank r ->
r+1), then backward in reverse (gradients of the activations sent r+1 -> r), so stage r works on micro-batch
i+1 while stage r+1 works on i. Each stage's parameter gradients accumulate over the micro-batches, and the loss
of micro-batch i is weighted by its share of the minibatch, so a step equals the single-process step on the
whole minibatch (for a loss that is a mean over examples).

predict: each rank computes the outputs of its contiguous shard of the inputs; the shards are gathered in order.
"""
from __future__ import annotations

import numpy as np

from ..backend import device_of
from . import _group

_HDR = 8  # ndim + up to 7 dimensions


def _send_array(t, dst, tag):
    """Send tensor ``t``'s shape then its values to ``dst``."""
    shape = tuple(t.shape)
    if len(shape) > _HDR - 1:
        raise ValueError(f"PipelineParallel: activations may have at most {_HDR - 1} dimensions, got shape {shape}")
    hdr = np.zeros(_HDR, np.int64)
    hdr[0] = len(shape)
    hdr[1:1 + len(shape)] = shape
    comm = _group._comm("PipelineParallel")
    _group.wait(comm.Isend(hdr, dest=dst, tag=tag), "PipelineParallel send", peer=dst)
    _group.send(t.detach(), dst, tag=tag + 1)


def _recv_array(src, tag, like):
    from ..autograd.tensor import Tensor

    comm = _group._comm("PipelineParallel")
    hdr = np.empty(_HDR, np.int64)
    _group.wait(comm.Irecv(hdr, source=src, tag=tag), "PipelineParallel recv", peer=src)
    shape = tuple(int(v) for v in hdr[1:1 + int(hdr[0])])
    dev = device_of(like._data)
    out = Tensor(np.zeros(shape, like._data.dtype), device=dev)
    _group.recv(out, src=src, tag=tag + 1)
    return out


class PipelineParallel:
    """This rank's stage of a model split by layers across the process group (rank r runs stage r).

    stage: the Module this rank owns (consecutive layers; stage r's output is stage r+1's input).
    chunks: micro-batches per minibatch. ``train_step(x, y, loss)`` runs the GPipe schedule and returns the
    minibatch loss (on every rank); then step each rank's optimizer on ``stage.parameters()``.
    ``forward(x)`` (inference) returns the last stage's output on every rank."""

    def __init__(self, stage, chunks=4):
        if int(chunks) < 1:
            raise ValueError(f"PipelineParallel: chunks must be >= 1, got {chunks!r}")
        self.stage, self.chunks = stage, int(chunks)
        self.rank, self.world = _group.get_rank(), _group.get_world_size()
        self.first, self.last = self.rank == 0, self.rank == self.world - 1
        ps = list(stage.parameters())
        self._like = ps[0] if ps else None

    def _dtype_like(self):
        from ..autograd.tensor import Tensor

        return self._like if self._like is not None else Tensor(np.zeros(1, np.float32))

    def _split(self, a):
        n = a.shape[0]
        k = min(self.chunks, n)
        bounds = np.linspace(0, n, k + 1).astype(int)
        return [(int(bounds[i]), int(bounds[i + 1])) for i in range(k)]

    def train_step(self, x, y, loss):
        """Forward and backward of one minibatch through the pipeline; returns its loss (a float) on every rank.

        x: the inputs (used on rank 0), y: the targets (used on the last rank), both indexable by example."""
        from ..autograd.tensor import Tensor
        from ..train.resolve import get_loss

        lossf = get_loss(loss)
        n = int(x.shape[0]) if self.first else int(y.shape[0])
        parts = self._split(np.empty(n))
        acts, outs, losses = [], [], []
        like = self._dtype_like()
        for i, (a, b) in enumerate(parts):  # forward of every micro-batch
            if self.first:
                inp = x[a:b]
            else:
                inp = _recv_array(self.rank - 1, 100 + 4 * i, like)
                inp.requires_grad_(True)
            out = self.stage(inp)
            acts.append(inp)
            if self.last:
                li = lossf(out, y[a:b]) * ((b - a) / n)
                losses.append(li)
                outs.append(li)
            else:
                _send_array(out, self.rank + 1, 100 + 4 * i)
                outs.append(out)
        for i in reversed(range(len(parts))):  # backward, last micro-batch first
            if self.last:
                outs[i].backward()
            else:
                g = _recv_array(self.rank + 1, 2000 + 4 * i, like)
                outs[i].backward(g)
            if not self.first:
                _send_array(acts[i].grad, self.rank - 1, 2000 + 4 * i)
        total = Tensor(
            np.array([sum(float(l.item()) for l in losses) if self.last else 0.0]), device=device_of(like._data)
        )
        _group.broadcast(total, src=self.world - 1)
        return float(total.item())

    def forward(self, x):
        """The model's output on inputs ``x`` (inference, micro-batch pipelined), on every rank."""
        from ..autograd.grad_mode import no_grad
        from ..autograd.tensor import Tensor

        like = self._dtype_like()
        with no_grad():
            n = np.array([int(x.shape[0]) if self.first else 0], np.int64)
            _group.wait(_group._comm("PipelineParallel").Ibcast(n, root=0), "PipelineParallel.forward")
            outs = []
            for i, (a, b) in enumerate(self._split(np.empty(int(n[0])))):
                inp = x[a:b] if self.first else _recv_array(self.rank - 1, 100 + 4 * i, like)
                out = self.stage(inp)
                if self.last:
                    outs.append(_group.host_buffer(out._data))
                else:
                    _send_array(out, self.rank + 1, 100 + 4 * i)
            res = np.concatenate(outs) if self.last else None
            hdr = np.zeros(_HDR, np.int64)
            if self.last:
                hdr[0] = res.ndim
                hdr[1:1 + res.ndim] = res.shape
            _group.wait(_group._comm("PipelineParallel").Ibcast(hdr, root=self.world - 1), "PipelineParallel.forward")
            shape = tuple(int(v) for v in hdr[1:1 + int(hdr[0])])
            t = Tensor(res if self.last else np.zeros(shape, like._data.dtype), device=device_of(like._data))
            _group.broadcast(t, src=self.world - 1)
        return t

    __call__ = forward


def predict(model, x, batch_size=256):
    """Data-parallel inference: rank r predicts its contiguous shard of ``x``; every rank gets all outputs, in
    order, as one NumPy array (textbook 12.1.3: each example on a separate machine)."""
    from ..train.loop import predict as predict_one

    comm = _group._comm("predict")
    rank, world = comm.Get_rank(), comm.Get_size()
    n = int(x.shape[0])
    bounds = np.linspace(0, n, world + 1).astype(int)
    a, b = int(bounds[rank]), int(bounds[rank + 1])
    part = predict_one(model, x[a:b], batch_size=batch_size) if b > a else None
    if part is None:  # an empty shard: learn the output's row shape from one example
        one = predict_one(model, x[:1], batch_size=1)
        part = np.zeros((0,) + one.shape[1:], one.dtype)
    return _group.all_gather_array(np.asarray(part), op="predict")


__all__ = ["PipelineParallel", "predict"]
