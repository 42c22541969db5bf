"""fit(distributed=True) on digits: phase 'train' under mpiexec -n 2 writes a checkpoint on rank 0 only; phase
'resume' (one process) resumes it at world size 1 and trains a single-process baseline for comparison.

usage: fit_ckpt.py train|resume DIR"""
import os
import sys

import numpy as np
from _common import check, dist, emit, init, numpy, sd

from shendu.data.datasets.digits import load_digits
from shendu.train import ModelCheckpoint, fit

phase, d = sys.argv[1], sys.argv[2]
(xtr, ytr), (xte, yte) = load_digits()
ckpt = os.path.join(d, "ckpt.sd")


def model():
    sd.manual_seed(0)
    return sd.nn.Sequential(sd.nn.Linear(64, 32), sd.nn.ReLU(), sd.nn.Linear(32, 10))


def acc(m):
    with sd.no_grad():
        return float((numpy(m(sd.tensor(xte))).argmax(1) == yte).mean())


if phase == "train":
    rank, world = init()
    check(world == 2, "2 ranks")
    m = model()
    if rank == 1:  # a different start: DDP's broadcast from rank 0 must replace it
        with sd.no_grad():
            for p in m.parameters():
                p.mul_(0.0)
    h = fit(m, (xtr, ytr), loss="cross_entropy", optimizer="adam", lr=0.01, epochs=3, batch_size=32,
            metrics=["accuracy"], distributed=True, verbose=1,
            callbacks=[ModelCheckpoint(ckpt, monitor="loss", save_weights_only=False)])
    # identical replicas after training
    w = sd.tensor(np.concatenate([numpy(p).ravel() for p in m.parameters()]))
    lst = [sd.zeros_like(w) for _ in range(world)]
    dist.all_gather(lst, w)
    check(np.array_equal(numpy(lst[0]), numpy(lst[1])), "replicas differ after fit")
    check(
        h.trainer.steps_per_epoch == -(-(len(xtr) // 2 + len(xtr) % 2) // 32),
        f"steps/epoch {h.trainer.steps_per_epoch}",
    )
    losses = h.history["loss"]
    lt = sd.tensor(np.array(losses))
    dist.all_reduce(lt, op=dist.ReduceOp.MAX)
    check(np.allclose(numpy(lt), losses), "epoch logs differ between ranks")
    dist.barrier()
    check(os.path.exists(ckpt), "rank 0 wrote no checkpoint")
    check(sorted(os.listdir(d)) == ["ckpt.sd"], f"files: {os.listdir(d)}")
    emit({"loss": losses, "acc": acc(m), "accuracy": h.history["accuracy"],
          "weights_sum": float(numpy(w).sum())})
else:  # resume at world size 1 (a plain process: MPI singleton)
    m = model()
    h = fit(m, (xtr, ytr), loss="cross_entropy", optimizer="adam", lr=0.01, epochs=3, batch_size=64,
            distributed=True, verbose=0, resume_from=ckpt)
    check(len(h.history["loss"]) == 3, "resume at epoch 3 of 3 trains nothing more")
    w0 = float(np.concatenate([numpy(p).ravel() for p in m.parameters()]).sum())
    h = fit(m, (xtr, ytr), loss="cross_entropy", optimizer="adam", lr=0.01, epochs=5, batch_size=64,
            distributed=True, verbose=0, resume_from=ckpt)
    check(len(h.history["loss"]) == 5, "resumed run: epochs 0-2 from the checkpoint, 3-4 trained")
    check(dist.get_world_size() == 1, "world size 1")
    acc_resumed = acc(m)
    m2 = model()  # also resumable by a plain (non-distributed) fit
    fit(m2, (xtr, ytr), loss="cross_entropy", optimizer="adam", lr=0.01, epochs=4, batch_size=64, verbose=0,
        resume_from=ckpt)
    base = model()  # the single-process baseline: batch 64 == 2 ranks x 32
    hb = fit(base, (xtr, ytr), loss="cross_entropy", optimizer="adam", lr=0.01, epochs=3, batch_size=64, verbose=0)
    emit({"weights_sum_loaded": w0, "acc_resumed": acc_resumed, "acc_single": acc(base),
          "loss_single": hb.history["loss"], "loss_resumed": h.history["loss"]})
