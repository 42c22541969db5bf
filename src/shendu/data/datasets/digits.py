"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes), available offline."""
from __future__ import annotations

import numpy as np

__all__ = ["load_digits"]


def load_digits(test_size=0.2, seed=0, flatten=True, normalize=True):
    """Digits as ((x_train, y_train), (x_test, y_test)) with a fixed seeded stratified split.

    x: normalize=True (the default): float32 in [0, 1] (pixel / 16); normalize=False: the raw uint8 pixel values
    0..16 (divide by 16 yourself). Shape (N, 64), or (N, 1, 8, 8) if flatten=False; y: int64 (N,).
    """
    if not 0.0 < float(test_size) < 1.0:
        raise ValueError(f"load_digits: test_size must lie in (0, 1), got {test_size!r}")
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    x = (bunch.data / 16.0).astype(np.float32) if normalize else bunch.data.astype(np.uint8)
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    if not flatten:
        x_tr, x_te = x_tr.reshape(-1, 1, 8, 8), x_te.reshape(-1, 1, 8, 8)
    return (x_tr, y_tr), (x_te, y_te)
