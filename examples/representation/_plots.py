"""PNG helpers for the representation-learning examples (matplotlib Agg, written atomically)."""
from __future__ import annotations

import io

import numpy as np


def _save(fig, path):
    from shendu.serialization import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def image_grid(images, path, title=None, cols=None, cmap="gray", symmetric=False):
    """Tile images (K, H, W) in a grid and save a PNG; ``symmetric`` centres the colour scale on 0 (weights)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    k = len(images)
    cols = cols or int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9 + (0.4 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < k:
            img = images[i]
            if symmetric:
                m = np.abs(img).max() or 1.0
                ax.imshow(img, cmap="RdBu_r", vmin=-m, vmax=m)
            else:
                ax.imshow(img, cmap=cmap, vmin=0, vmax=1)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)


def reconstruction_grid(rows, labels, path, shape=(8, 8), title=None):
    """One row of images per entry of ``rows`` (each (K, H*W) or (K, H, W)), labelled on the left; save a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(rows[0])
    fig, axes = plt.subplots(len(rows), k, figsize=(k * 0.8 + 1.2, len(rows) * 0.85 + 0.4), squeeze=False)
    for r, (imgs, label) in enumerate(zip(rows, labels)):
        imgs = np.asarray(imgs).reshape((k,) + tuple(shape))
        for j in range(k):
            ax = axes[r, j]
            ax.imshow(np.clip(imgs[j], 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)
