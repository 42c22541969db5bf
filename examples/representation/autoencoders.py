"""Autoencoders on the 8x8 digits (text 004; textbook 7.x): undercomplete, tied, denoising, sparse, convolutional.

Trains each model with Adam, prints the test reconstruction error (mean squared, per pixel) on clean and on
50%-masked inputs, and writes a reconstruction grid PNG (originals, masked, plain AE and denoising AE outputs).

    python examples/representation/autoencoders.py [--quick] [--out autoencoders.png]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))

import shendu as sd  # noqa: E402
from shendu.data.datasets import load_digits  # noqa: E402
from shendu.models import AutoEncoder, ConvAutoEncoder  # noqa: E402
from shendu.models.autoencoder import corrupt  # noqa: E402
from shendu.train.strategies import minibatch_fit  # noqa: E402

from _plots import reconstruction_grid  # noqa: E402


def recon(model, x, shape=None):
    with sd.no_grad():
        xt = sd.tensor(x if shape is None else x.reshape(shape))
        return model.reconstruct(xt).cpu().numpy().reshape(len(x), -1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few epochs (a smoke run)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--out", default="autoencoders.png")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 30)
    (xtr, _), (xte, _) = load_digits()
    sd.manual_seed(args.seed + 99)
    noisy = corrupt(sd.tensor(xte), "mask", 0.5).cpu().numpy()
    print(f"digits: {len(xtr)} train / {len(xte)} test, {epochs} epochs of Adam(1e-2); mean-image baseline "
          f"error {float(((xte - xtr.mean(0)) ** 2).mean()):.4f}")
    configs = {
        "undercomplete 64-32": dict(sizes=[64, 32]),
        "tied 64-32": dict(sizes=[64, 32], tied=True),
        "plain 64-64": dict(sizes=[64, 64]),
        "denoising 64-64 (mask 0.5)": dict(sizes=[64, 64], noise="mask", noise_level=0.5),
        "sparse KL 64-100 (rho 0.05)": dict(sizes=[64, 100], sparsity="kl", sparsity_weight=0.1),
    }
    outputs = {}
    print(f"{'model':30s} {'clean err':>10s} {'masked err':>11s} {'mean code':>10s} {'time s':>7s}")
    for name, kw in configs.items():
        sd.manual_seed(args.seed)
        ae = AutoEncoder(kw.pop("sizes"), **kw)
        t = time.perf_counter()
        minibatch_fit(ae, ae.loss, (xtr,), epochs, 32, optimizer=sd.optim.Adam(ae.parameters(), lr=1e-2), seed=args.seed)
        dt = time.perf_counter() - t
        clean, masked = recon(ae, xte), recon(ae, noisy)
        with sd.no_grad():
            code = float(ae.encode(sd.tensor(xte)).mean().item())
        outputs[name] = masked
        print(f"{name:30s} {((clean - xte) ** 2).mean():10.4f} {((masked - xte) ** 2).mean():11.4f} {code:10.3f} {dt:7.2f}")
    sd.manual_seed(args.seed)
    conv = ConvAutoEncoder(1, channels=(8, 16))
    shape = (-1, 1, 8, 8)
    t = time.perf_counter()
    minibatch_fit(conv, conv.loss, (xtr.reshape(shape),), epochs, 32, optimizer=sd.optim.Adam(conv.parameters(), lr=1e-2),
                  seed=args.seed)
    dt = time.perf_counter() - t
    clean, masked = recon(conv, xte, shape), recon(conv, noisy, shape)
    print(f"{'conv 1-8-16 (code 16x2x2)':30s} {((clean - xte) ** 2).mean():10.4f} {((masked - xte) ** 2).mean():11.4f} "
          f"{'':>10s} {dt:7.2f}")
    k = 6 if args.quick else 10
    reconstruction_grid([xte[:k], noisy[:k], outputs["plain 64-64"][:k], outputs["denoising 64-64 (mask 0.5)"][:k]],
                        ["original", "masked 50%", "plain AE", "denoising AE"], args.out,
                        title="Reconstructions of masked test digits")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
