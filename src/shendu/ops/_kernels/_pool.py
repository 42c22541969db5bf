"""numba kernels for 2-D max pooling on (P, H, W) planes (P = N*C), one pass over the input each way.
Same semantics as the NumPy path of shendu.ops.pool.MaxPoolNd: padding is -inf, the arg-max is the first tap
in scan order holding the maximum, a window holding NaN gives NaN and its last NaN tap. Parallel over planes."""
from __future__ import annotations

import numba
import numpy as np

_OPTS = dict(cache=True, nogil=True, parallel=True, fastmath=False)


@numba.njit(**_OPTS)
def maxpool2d_fwd(x, k0, k1, s0, s1, d0, d1, p0, p1, out, idx):
    """out[p, i, j] = max over taps (a, b) of x[p, i*s0 + a*d0 - p0, j*s1 + b*d1 - p1]; idx = tap a*k1 + b."""
    P, H, W = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    ninf = -np.inf
    for p in numba.prange(P):
        for i in range(Ho):
            h0 = i * s0 - p0
            for j in range(Wo):
                w0 = j * s1 - p1
                best = ninf
                bi = 0
                nan_t = -1
                t = 0
                for a in range(k0):
                    h = h0 + a * d0
                    for b in range(k1):
                        w = w0 + b * d1
                        if 0 <= h < H and 0 <= w < W:
                            v = x[p, h, w]
                            if v > best:
                                best = v
                                bi = t
                            elif v != v:
                                nan_t = t
                        t += 1
                if nan_t >= 0:
                    out[p, i, j] = np.nan
                    idx[p, i, j] = nan_t
                else:
                    out[p, i, j] = best
                    idx[p, i, j] = bi


@numba.njit(**_OPTS)
def maxpool2d_bwd(gy, idx, k1, s0, s1, d0, d1, p0, p1, gx):
    """gx (zeroed here) += gy routed to the arg-max tap of each window (taps in the padding are dropped)."""
    P, H, W = gx.shape
    Ho, Wo = gy.shape[1], gy.shape[2]
    for p in numba.prange(P):
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
