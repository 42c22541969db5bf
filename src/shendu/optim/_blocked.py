"""Cache-blocked optimizer updates (issue 20). An update rule that makes ~10 elementwise passes over a
parameter (Adadelta, Adam, RMSProp: textbook 8.5) runs them block by block over the flattened arrays, about
``BLOCK`` elements at a time: after a block's first pass the other passes find it in cache instead of memory.
Per element the arithmetic is unchanged (results are bit-identical) and the scratch arrays shrink to one block.
On a device (no such cache to fit, and a launch per op per block would cost more), for small parameters and
for non-contiguous arrays: one piece, the arrays themselves.
"""
from __future__ import annotations

import numpy as np

from ..backend import namespace_of

#: Elements per block. mnist_cnn's Adadelta step (fc1: 1.18M parameters), thread CPU time inside the training
#: step: whole arrays 4.1 ms; blocks of 64K 3.3, 128K 3.2, 256K 3.3, 512K 3.5 ms (2-core EPYC, 1 MiB L2).
BLOCK = 131072


def blocks(st, arrays, n_scratch, scale=1):
    """The pieces to update, a list of tuples (*arrays, *scratch): flat slices of about ``scale * BLOCK`` elements of
    ``arrays`` (the parameter, its gradient and its state arrays, all shaped alike; writes go through to them)
    followed by ``n_scratch`` work arrays of the same length, kept in ``st`` between steps. One piece, the arrays
    themselves with whole-size work arrays, for a parameter of at most that many elements, and unless every array
    is a C-contiguous host NumPy array."""
    d = arrays[0]
    n = d.size
    b = scale * BLOCK
    if n > b and all(type(a) is np.ndarray and a.flags.c_contiguous for a in arrays):
        s = st.get("_blk")
        if s is None or s.shape != (n_scratch, b) or s.dtype != d.dtype:
            s = st["_blk"] = np.empty((n_scratch, b), dtype=d.dtype)
        flat = [a.reshape(-1) for a in arrays]
        return [tuple(v[a:a + b] for v in flat) + tuple(s[i, :min(b, n - a)] for i in range(n_scratch))
                for a in range(0, n, b)]
    s = st.get("_whole")
    if s is None or len(s) != n_scratch or s[0].shape != d.shape or s[0].dtype != d.dtype or type(s[0]) is not type(d):
        s = st["_whole"] = tuple(namespace_of(d).empty_like(d) for _ in range(n_scratch))
    return [arrays + s]
