"""RBM and DBN on the 8x8 digits (texts 001/004): CD-1 / PCD training, monitoring, filters, DBN vs random init.

1. An RBM (64 binary visible, 64 hidden) trained by CD-1 and by PCD-1 on binarised digits; prints the
   reconstruction error and the pseudo-likelihood per epoch; writes the CD-1 weight filters as a PNG.
2. A DBN [64, 100] pretrained greedily, turned into an MLP (to_mlp) and fine-tuned 1 and 3 epochs (quick: 1) with SGD,
   against the same MLP from random initialisation (the few-epoch regime).

    python examples/representation/rbm_dbn.py [--quick] [--out rbm_filters.png]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shendu as sd  # noqa: E402
from shendu import nn  # noqa: E402
from shendu.data.datasets import load_digits  # noqa: E402
from shendu.models import DBN, RBM  # noqa: E402
from shendu.nn.functional import cross_entropy  # noqa: E402
from shendu.train.strategies import accuracy, minibatch_fit  # noqa: E402

from _plots import image_grid  # noqa: E402


def train_rbm(x, epochs, persistent, seed):
    sd.manual_seed(seed)
    rbm = RBM(64, 64)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        for s in range(0, len(x), 32):
            rbm.cd_step(x[order[s:s + 32]], k=1, lr=0.1, momentum=0.5, persistent=persistent)
        if epoch == epochs - 1 or epoch % max(1, epochs // 5) == 0:
            print(f"  {'PCD' if persistent else 'CD '}-1 epoch {epoch + 1:3d}: reconstruction error "
                  f"{rbm.reconstruction_error(x):.4f}, pseudo-likelihood (first 500) "
                  f"{rbm.pseudo_likelihood(x[:500], exact=True):8.3f}")
    return rbm


def fine_tune(model, data, epochs, seed):
    (xtr, ytr), (xte, yte) = data
    minibatch_fit(model, lambda a, b: cross_entropy(model(a), b), (xtr, ytr), epochs, 32, lr=0.5, seed=seed)
    return accuracy(model, xte, yte)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few epochs (a smoke run)")
    ap.add_argument("--out", default="rbm_filters.png")
    ap.add_argument("--seeds", type=int, default=None)
    args = ap.parse_args(argv)
    epochs = 2 if args.quick else 30
    seeds = args.seeds or (1 if args.quick else 3)
    data = load_digits()
    (xtr, _), _ = data
    xb = (xtr > 0.5).astype(np.float32)
    print(f"RBM 64x64 on {len(xb)} binarised digits, {epochs} epochs, lr 0.1, momentum 0.5")
    t = time.perf_counter()
    rbm = train_rbm(xb, epochs, False, 0)
    train_rbm(xb, epochs, True, 0)
    print(f"  ({time.perf_counter() - t:.1f} s)")
    image_grid(rbm.filters((8, 8)), args.out, title="RBM weight filters (CD-1)", symmetric=True)
    print(f"wrote {args.out}")
    pre_epochs = 3 if args.quick else 10
    ft_epochs = (1,) if args.quick else (1, 3)
    print(f"DBN [64, 100]: {pre_epochs} epochs of CD-1 pretraining (lr 0.5, momentum 0.5), then SGD(0.5) fine-tuning")
    print(f"{'seed':>4s} {'ft epochs':>9s} {'DBN init':>9s} {'random init':>12s}")
    for seed in range(seeds):
        sd.manual_seed(seed)
        dbn = DBN([64, 100])
        dbn.pretrain(xtr, epochs=pre_epochs, lr=0.5, momentum=0.5, seed=seed)
        for ft in ft_epochs:
            a = fine_tune(dbn.to_mlp(10), data, ft, seed)
            sd.manual_seed(seed + 100)
            b = fine_tune(nn.Sequential(nn.Linear(64, 100), nn.Sigmoid(), nn.Linear(100, 10)), data, ft, seed)
            print(f"{seed:4d} {ft:9d} {a:9.3f} {b:12.3f}")


if __name__ == "__main__":
    main()
