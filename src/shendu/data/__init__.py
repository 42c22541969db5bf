"""Data pipeline: datasets, minibatch loading, splits, preprocessing, augmentation transforms."""
from . import datasets, preprocessing, transforms
from .dataset import Dataset, Subset, TensorDataset
from .loader import DataLoader, default_collate
from .split import KFold, random_split

__all__ = [
    "Dataset", "TensorDataset", "Subset", "DataLoader", "default_collate", "random_split", "KFold",
    "datasets", "preprocessing", "transforms",
]
