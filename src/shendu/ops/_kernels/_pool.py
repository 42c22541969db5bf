"""numba kernel for the backward of 2-D max pooling on (P, H, W) planes (P = N*C): one pass routing each
gradient to its window's saved arg-max tap (shendu.ops.pool.MaxPoolNd saves it; the NumPy path does one
compare + multiply + add pass per tap). A compiled forward (max + arg-max per window, scalar loops) was
measured 2-4x slower than the NumPy polyphase passes here and is not used.
Reference: shendu.reference.pool.max_pool2d_backward (tests/reference/test_pool.py)."""
from __future__ import annotations

import numba

# serial: on a loaded 2-core machine numba's thread pool lost to one thread (CIFAR pool1 backward 32 vs 8 ms)
_OPTS = dict(cache=True, nogil=True)


@numba.njit(**_OPTS)
def maxpool2d_bwd(gy, idx, k1, s0, s1, d0, d1, p0, p1, gx):
    """gx (zeroed here) += gy routed to the arg-max tap of each window (taps in the padding are dropped)."""
    P, H, W = gx.shape
    Ho, Wo = gy.shape[1], gy.shape[2]
    for p in range(P):
        for h in range(H):
            for w in range(W):
                gx[p, h, w] = 0
        for i in range(Ho):
            for j in range(Wo):
                t = idx[p, i, j]
                a = t // k1
                b = t - a * k1
                h = i * s0 + a * d0 - p0
                w = j * s1 + b * d1 - p1
                if 0 <= h < H and 0 <= w < W:
                    gx[p, h, w] += gy[p, i, j]
