"""Synchronous data parallelism: DistributedDataParallel (textbook 12.1.3, W12.9).

Each rank holds a replica, runs its own shard of the minibatch, and the gradients are averaged over the ranks
before the optimizer step, so N ranks with batch B take exactly the step one process takes with batch N*B (for a
loss that is a mean over the batch). Averaging is done in buckets of parameters (``bucket_cap_mb``) in the reverse
order of ``parameters()``: a bucket's nonblocking all-reduce starts as soon as backward hands over the last of its
gradients (post-accumulate-grad hooks), while backward continues with the earlier layers.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ..backend import device_of, is_host, to_device
from ..nn.module import Module
from . import _group


class _Bucket:
    __slots__ = ("params", "ready", "buf", "req", "dtype")

    def __init__(self, params, dtype):
        self.params, self.dtype, self.ready, self.buf, self.req = params, dtype, 0, None, None


class DistributedDataParallel(Module):
    """Wrap ``module`` for synchronous data-parallel training over the default process group.

    At construction, rank 0's parameters and buffers are broadcast to every rank. During ``backward`` the
    gradients are averaged over ranks (all-reduce / world size) in buckets of about ``bucket_cap_mb`` MB (the
    first at most 1 MB, so that reducing starts early; 0: one parameter per bucket); when backward returns, every
    rank holds the same averaged ``.grad``.
    ``no_sync()`` skips the averaging (gradient accumulation; the next synced backward averages the sum).
    find_unused_parameters: also average parameters that this forward did not use (their gradient counts as 0).
    The wrapped model is ``.module`` (save ``.module.state_dict()`` to resume at any world size). Gradients are
    reduced over MPI in host buffers (device gradients are copied); device_ids, output_device, dim,
    process_group and gradient_as_bucket_view are accepted for PyTorch compatibility and ignored."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=25, find_unused_parameters=False, gradient_as_bucket_view=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a shendu Module, got {type(module).__name__}")
        if bucket_cap_mb is None or not isinstance(bucket_cap_mb, (int, float)) or bucket_cap_mb < 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a number >= 0, got {bucket_cap_mb!r}")
        _group._comm("DistributedDataParallel")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_cap_mb = bucket_cap_mb
        self.world_size = _group.get_world_size()
        object.__setattr__(self, "_sync", True)
        with _no_grad():
            for p in module.parameters():
                _group.broadcast(p, 0)
            for b in module.buffers():
                _group.broadcast(b, 0)
        params = [p for p in module.parameters() if p.requires_grad]
        seen, uniq = set(), []
        for p in params:  # a parameter shared by two layers is reduced once
            if id(p) not in seen:
                seen.add(id(p))
                uniq.append(p)
        buckets, cap = [], float(bucket_cap_mb) * 1024 * 1024
        first_cap = min(cap, 1024 * 1024)  # a small first bucket starts reducing early (as PyTorch: 1 MB)
        cur, size = [], 0
        for p in reversed(uniq):  # the order backward produces gradients in
            dt = np.dtype(p._data.dtype)
            limit = cap if buckets else first_cap
            if cur and (size + p._data.size * dt.itemsize > limit or dt != cur[0]._data.dtype):
                buckets.append(_Bucket(cur, cur[0]._data.dtype))
                cur, size = [], 0
            cur.append(p)
            size += p._data.size * dt.itemsize
        if cur:
            buckets.append(_Bucket(cur, cur[0]._data.dtype))
        object.__setattr__(self, "_buckets", buckets)
        object.__setattr__(self, "_where", {id(p): i for i, b in enumerate(buckets) for p in b.params})
        object.__setattr__(self, "_seen", set())
        object.__setattr__(self, "_launched", 0)
        object.__setattr__(self, "_unused", [])
        object.__setattr__(self, "_handles", [p.register_post_accumulate_grad_hook(self._hook) for p in uniq])

    # -- forward ---------------------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        if self._seen:
            missing = sum(len(b.params) for b in self._buckets) - len(self._seen)
            raise RuntimeError(
                f"DistributedDataParallel: the previous backward left {missing} parameter(s) without a gradient, so "
                "its gradient averaging never finished; pass find_unused_parameters=True when some parameters are "
                "not used in every forward")
        if self.broadcast_buffers and self.world_size > 1 and self.module.training:
            with _no_grad():
                for b in self.module.buffers():
                    _group.broadcast(b, 0)
        out = self.module(*args, **kwargs)
        if self.find_unused_parameters and self._sync and _grad_on():
            used = _reachable_leaves(out)
            # marked ready (with the gradient they then hold, usually none: 0) when backward starts
            object.__setattr__(self, "_unused", [p for b in self._buckets for p in b.params if id(p) not in used])
        return out

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["module"], name)

    @contextlib.contextmanager
    def no_sync(self):
        """Within this block, backward accumulates gradients locally without averaging them over ranks."""
        prev = self._sync
        object.__setattr__(self, "_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_sync", prev)

    # -- gradient averaging ------------------------------------------------------------------------------------
    def _hook(self, p):
        if self._sync:
            if self._unused:
                unused = self._unused
                object.__setattr__(self, "_unused", [])
                for q in unused:
                    self._mark(q)
            self._mark(p)

    def _mark(self, p):
        if id(p) in self._seen:
            return
        self._seen.add(id(p))
        b = self._buckets[self._where[id(p)]]
        b.ready += 1
        for done in self._buckets[:self._launched]:  # let MPI progress the reductions already started
            if done.req is not None and done.req.Test():
                done.req = None
        # launch, in bucket order (every rank issues the same collectives in the same order), the full buckets
        while (
            self._launched < len(self._buckets)
            and self._buckets[self._launched].ready == len(self._buckets[self._launched].params)
        ):
            self._launch(self._buckets[self._launched])
            object.__setattr__(self, "_launched", self._launched + 1)
        if self._launched == len(self._buckets):
            self._finish()

    def _launch(self, b):
        parts = []
        for p in b.params:
            g = p.grad
            if g is None:
                parts.append(np.zeros(p._data.size, _group.host_dtype(p._data.dtype)))
            else:
                parts.append(_group.host_buffer(g._data).ravel())
        b.buf = np.concatenate(parts) if len(parts) > 1 else parts[0].copy()
        if self.world_size > 1:
            MPI = _group._mpi()
            b.req = _group._comm("DistributedDataParallel").Iallreduce(MPI.IN_PLACE, b.buf, op=MPI.SUM)

    def _finish(self):
        from ..autograd.tensor import _wrap

        n = self.world_size
        for b in self._buckets:
            if b.req is not None:
                _group.wait(b.req, "DistributedDataParallel all_reduce")
            buf = b.buf
            if n > 1:
                buf /= n
            off = 0
            for p in b.params:
                k = p._data.size
                vals = buf[off:off + k].reshape(p._data.shape)
                off += k
                d = p._data
                vals = vals.astype(d.dtype, copy=False)
                arr = vals if is_host(d) else to_device(vals, device_of(d))
                if p.grad is None:
                    p.grad = _wrap(arr)
                else:
                    p.grad._data = arr
                    p.grad._version += 1
            b.buf, b.req, b.ready = None, None, 0
        self._seen.clear()
        object.__setattr__(self, "_launched", 0)


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


def _grad_on():
    from ..autograd.grad_mode import is_grad_enabled

    return is_grad_enabled()


def _reachable_leaves(out):
    """ids of the leaf tensors the graph of ``out`` (a Tensor or a nest of them) reaches."""
    from ..autograd.backprop_steps import topo_order as _topo_order
    from ..autograd.tensor import Tensor

    outs, stack = [], [out]
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            outs.append(o)
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
    roots = [o._grad_fn for o in outs if o._grad_fn is not None]
    used = {id(o) for o in outs if o._grad_fn is None}
    for fn in _topo_order(roots):
        for x, need in zip(fn.inputs, fn.needs_input_grad):
            if need and x._grad_fn is None:
                used.add(id(x))
    return used


__all__ = ["DistributedDataParallel"]
