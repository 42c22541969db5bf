"""Adversarial training on the digits (textbook 7.13): a plain MLP against one trained on the adversarial
objective alpha J(x) + (1 - alpha) J(x + eps sign(grad_x J)) (Goodfellow et al. 2014b).

    python examples/regularization/adversarial.py [--quick] [--eps 0.1] [--epochs 20] [--out adversarial.png]

Prints the clean test accuracy of both models and their accuracy under FGSM (and a 10-step PGD) attacks of
growing size eps (pixels in [0, 1]); the book's claim: adversarial training buys local constancy, so the
adversarially trained model keeps more accuracy under attack. With --out, plots accuracy against eps.
"""
from __future__ import annotations

import argparse

import shendu as sd
from shendu import nn
from shendu.data.datasets import load_digits
from shendu.regularize import adversarial_fit, pgd, robust_accuracy


def mlp(hidden):
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run (CI)")
    ap.add_argument("--eps", type=float, default=0.1, help="training perturbation size (L-inf)")
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the clean loss")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--hidden", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="PNG path for the accuracy-vs-eps plot")
    a = ap.parse_args(argv)
    epochs = a.epochs or (8 if a.quick else 30)
    hidden = a.hidden or (64 if a.quick else 128)
    (x, y), (xt, yt) = load_digits()

    sd.manual_seed(a.seed)
    plain = mlp(hidden)
    sd.train.fit(plain, (x, y), loss="cross_entropy", epochs=epochs, batch_size=32, lr=3e-3, verbose=0)
    sd.manual_seed(a.seed)
    robust = mlp(hidden)
    adversarial_fit(robust, x, y, loss="cross_entropy", epochs=epochs, batch_size=32, lr=3e-3, eps=a.eps,
                    alpha=a.alpha, attack_kwargs={"clip": (0.0, 1.0)})

    eps_grid = [0.0, 0.05, 0.1, 0.2] if a.quick else [0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2]
    res = {"eps": eps_grid, "plain": [], "adversarial": []}
    print(f"{'eps':>6} {'plain FGSM acc':>15} {'adv-trained FGSM acc':>21}")
    for e in eps_grid:
        p = robust_accuracy(plain, xt, yt, e, clip=(0.0, 1.0))
        r = robust_accuracy(robust, xt, yt, e, clip=(0.0, 1.0))
        res["plain"].append(p)
        res["adversarial"].append(r)
        print(f"{e:6.3f} {p:15.4f} {r:21.4f}")
    steps = 5 if a.quick else 10
    res["pgd_plain"] = robust_accuracy(plain, xt, yt, a.eps, attack=pgd, alpha=a.eps / 4, steps=steps, clip=(0.0, 1.0))
    res["pgd_adversarial"] = robust_accuracy(robust, xt, yt, a.eps, attack=pgd, alpha=a.eps / 4, steps=steps,
                                             clip=(0.0, 1.0))
    print(f"PGD ({steps} steps, eps={a.eps}): plain {res['pgd_plain']:.4f}, adversarially trained "
          f"{res['pgd_adversarial']:.4f}")
    if a.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(eps_grid, res["plain"], "o-", label="plain MLP")
        ax.plot(eps_grid, res["adversarial"], "s-", label=f"adversarially trained (eps={a.eps})")
        ax.set_xlabel("FGSM eps (L-inf, pixels in [0, 1])")
        ax.set_ylabel("test accuracy")
        ax.set_title("Adversarial training on digits (textbook 7.13)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(a.out, dpi=100)
        print(f"wrote {a.out}")
    return res


if __name__ == "__main__":
    main()
