"""``shendu.utils.data``: PyTorch's ``torch.utils.data`` names, re-exported from ``shendu.data`` plus samplers.

``from torch.utils.data import DataLoader, TensorDataset`` works unchanged under the torch import alias
(``python -m shendu.torchcompat``)."""
from ...data import DataLoader, Dataset, KFold, Subset, TensorDataset, default_collate  # noqa: F401
from ...data import random_split as _random_split
from .sampler import (  # noqa: F401
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from . import dataloader, dataset, sampler  # noqa: F401
from .dataset import ConcatDataset, StackDataset  # noqa: F401


class IterableDataset(Dataset):
    """A data set read by iteration (``__iter__``) instead of indexing (torch's IterableDataset name); the
    DataLoader batches it as it streams (each example used once per pass, textbook 8.1.3)."""

    _iterable_style = True

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__}: an IterableDataset must define __iter__")


def random_split(dataset, lengths, generator=None, seed=None):  # noqa: F811  (torch's argument name; local only)
    """``shendu.data.random_split`` with torch's ``generator=`` (a ``sd.Generator``, NumPy Generator or int seed)."""
    if generator is not None and seed is None:
        seed = generator.get_generator() if hasattr(generator, "get_generator") else generator
    return _random_split(dataset, lengths, seed=seed)


def get_worker_info():
    """Inside a DataLoader worker process its WorkerInfo (id, num_workers, seed, dataset); None elsewhere."""
    from ...data._workers import get_worker_info as info

    return info()


__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DistributedSampler",
    "DataLoader",
    "StackDataset",
    "Dataset",
    "IterableDataset",
    "KFold",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "get_worker_info",
    "random_split",
]
