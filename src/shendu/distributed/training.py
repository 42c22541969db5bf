"""What ``fit(..., distributed=True)`` does on top of the single-process loop (textbook 12.1.3).

* joins the process group (``init_process_group("mpi")`` unless already done) and wraps the model in
  ``DistributedDataParallel`` (parameters broadcast from rank 0, gradients averaged every step);
* gives each rank its shard of the training data (``DistributedSampler``, reshuffled each epoch by
  ``set_epoch``); ``batch_size`` is per rank, so one step sees ``world_size * batch_size`` examples;
* averages the epoch's loss and metrics over ranks (weighted by example counts), so every rank's callbacks see
  the same logs and take the same decisions (early stopping, LR schedules);
* prints progress and runs the writing callbacks (checkpoints, CSV, TensorBoard) on rank 0 only;
  checkpoints hold the unwrapped model's state, so a run resumes at any world size.
"""
from __future__ import annotations

import numpy as np

from . import _group

# Callbacks that write files or print: kept on rank 0 only.
RANK_ZERO_ONLY = ("ModelCheckpoint", "CSVLogger", "TensorBoard", "ProgressBar", "BackupAndRestore")


def setup(model, callbacks, verbose):
    """(DDP-wrapped model, the callbacks this rank runs, this rank's verbosity)."""
    from .ddp import DistributedDataParallel

    if not _group.is_initialized():
        _group.init_process_group("mpi")
    if not isinstance(model, DistributedDataParallel):
        model = DistributedDataParallel(model)
    if _group.get_rank() != 0:
        callbacks = [c for c in callbacks
                     if not getattr(c, "rank_zero_only", type(c).__name__ in RANK_ZERO_ONLY)]
        verbose = 0
    return model, callbacks, verbose


def unwrap(model):
    """The model inside a DistributedDataParallel wrapper (the model itself otherwise)."""
    from .ddp import DistributedDataParallel

    return model.module if isinstance(model, DistributedDataParallel) else model


def shard_loader(loader, shuffle, seed=None):
    """A DataLoader over this rank's DistributedSampler shard of ``loader``'s data set (same batch size)."""
    from ..data import DataLoader
    from ..utils.data import DistributedSampler

    if seed is None:  # the same seed on every rank (rank 0's draw)
        from ..data.loader import _draw_seed

        s = np.array([_draw_seed() % 2 ** 31], np.int64)
        _group.wait(_group._comm("fit").Ibcast(s, root=0), "fit (seed broadcast)")
        seed = int(s[0])
    sampler = DistributedSampler(loader.dataset, shuffle=shuffle, seed=seed)
    return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler,
                      collate_fn=getattr(loader, "collate_fn", None), transform=getattr(loader, "transform", None),
                      drop_last=bool(getattr(loader, "drop_last", False)))


def set_epoch(loader, epoch):
    s = getattr(loader, "sampler", None)
    if hasattr(s, "set_epoch"):
        s.set_epoch(epoch)


def reduce_logs(total, count, metric_logs):
    """(global mean loss, global example count, metrics averaged over ranks weighted by example counts)."""
    keys = sorted(metric_logs)
    buf = np.array([total, count] + [float(metric_logs[k]) * count for k in keys], np.float64)
    _group.wait(_group._comm("fit").Iallreduce(_group._mpi().IN_PLACE, buf), "fit (epoch logs)")
    n = buf[1]
    return buf[0] / n, n, {k: buf[2 + i] / n for i, k in enumerate(keys)}
