"""Shape and layout ops (textbook 6.5.2: every op's bprop is a vector-Jacobian product), by concept:

- ``views``: reshape/view/flatten, transpose/permute, broadcast_to/expand and sum_to, squeeze/unsqueeze;
- ``join``: cat/stack, split/chunk/unbind, narrow;
- ``layout``: pad, tile/repeat/repeat_interleave, flip, roll.
"""
from .join import Cat, Split, cat, chunk, concat, concatenate, narrow, split, stack, unbind  # noqa: F401
from .layout import Flip, Pad, Roll, Tile, flip, pad, repeat, repeat_interleave, roll, tile  # noqa: F401
from .views import (  # noqa: F401
    BroadcastTo, Reshape, SumTo, T, Transpose, broadcast_to, expand, expand_as, flatten, mT, permute, reshape,
    squeeze, sum_to, swapaxes, transpose, unsqueeze, view,
)
