"""`DataLoader`: minibatches of a data set (textbook 8.1.3, batch and minibatch algorithms).

Minibatches must be drawn at random: not shuffling naturally ordered data hurts badly, and
shuffling once is usually enough (textbook 8.1.3); the loader reshuffles every epoch. As in PyTorch,
a loader built without ``generator=``/``seed=`` draws each epoch's shuffle seed from shendu's global
generator when iteration starts, so ``sd.manual_seed`` called after building it fixes the order; an
explicit generator or seed keeps its own stream. Array-backed data sets (those with `get_batch`, e.g.
`TensorDataset`) are batched with one fancy-indexing operation per array; other data sets are collated sample by sample.
Batches are tuples of shendu Tensors (or NumPy arrays with `as_tensor=False`) on the host, as in
PyTorch: the training loop (`shendu.train`) moves each batch to the model's device.

Modules: seeds (generators and their states), collate (batch assembly), prefetch (background
thread), dataloader (DataLoader).
"""
from .seeds import _draw_seed, as_generator, _generators, generator_states, set_generator_states  # noqa: F401
from .collate import default_collate, _fetch_batch  # noqa: F401
from .dataloader import DataLoader  # noqa: F401

__all__ = ["DataLoader", "default_collate", "as_generator", "generator_states", "set_generator_states"]
