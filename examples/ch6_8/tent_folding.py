"""Folding demo (Textbook 6.4.1, Fig 6.5, W6.13): l "tent" layers h <- |2h - 1| (two ReLUs each) map [0, 1]
onto itself with 2^l linear pieces; the piece count is measured numerically and plotted per depth.

    python examples/ch6_8/tent_folding.py [--out tent_folding.png] [--depth 5]
"""
from __future__ import annotations

import argparse

import numpy as np

import shendu as sd
from shendu.nn import regions as R


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tent_folding.png")
    ap.add_argument("--depth", type=int, default=5)
    args = ap.parse_args(argv)
    x = np.linspace(0, 1, 4001).reshape(-1, 1)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, args.depth, figsize=(3 * args.depth, 2.6), sharey=True)
    counts = []
    for l, ax in zip(range(1, args.depth + 1), np.atleast_1d(axes)):
        net = R.tent_net(l, dtype=np.float64)
        f = lambda a, net=net: net(sd.tensor(a)).numpy()  # noqa: E731
        counts.append(R.count_linear_pieces(f, 0.0, 1.0, n=4001))
        ax.plot(x[:, 0], f(x)[:, 0])
        ax.set_title(f"l = {l}: {counts[-1]} pieces")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print("linear pieces per depth:", counts, "(2^l:", [2 ** l for l in range(1, args.depth + 1)], ")")
    return counts


if __name__ == "__main__":
    main()
