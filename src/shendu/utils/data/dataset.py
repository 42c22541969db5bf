"""``shendu.utils.data.dataset`` (torch.utils.data.dataset): the data set classes of ``shendu.data``."""
from ...data.dataset import Dataset, Subset, TensorDataset  # noqa: F401
from ...data.split import random_split  # noqa: F401


class ConcatDataset(Dataset):
    """The samples of several data sets one after another (torch.utils.data.ConcatDataset)."""

    def __init__(self, datasets):
        import bisect
        import itertools

        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))
        self._bisect = bisect.bisect_right

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("ConcatDataset: absolute value of index should not exceed dataset length")
            idx += len(self)
        i = self._bisect(self.cumulative_sizes, idx)
        return self.datasets[i][idx - (self.cumulative_sizes[i - 1] if i else 0)]


class StackDataset(Dataset):
    """Samples of equally long data sets side by side: a tuple (positional) or a dict (keywords)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: pass either positional or keyword data sets, not both")
        self.datasets = args or kwargs
        sizes = {len(d) for d in (args or kwargs.values())}
        if len(sizes) != 1:
            raise ValueError(f"StackDataset: size mismatch between data sets: {sorted(sizes)}")
        self._length = sizes.pop()

    def __len__(self):
        return self._length

    def __getitem__(self, idx):
        if isinstance(self.datasets, dict):
            return {k: d[idx] for k, d in self.datasets.items()}
        return tuple(d[idx] for d in self.datasets)
