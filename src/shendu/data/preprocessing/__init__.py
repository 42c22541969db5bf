"""Preprocessing fitted on training data only: scalers, whitening, contrast normalization, one-hot."""
from .contrast import gaussian_kernel1d, global_contrast_normalize, local_contrast_normalize
from .encoding import one_hot
from .scalers import MinMaxScaler, StandardScaler
from .whitening import PCAWhitening, ZCAWhitening

__all__ = [
    "StandardScaler", "MinMaxScaler", "PCAWhitening", "ZCAWhitening",
    "global_contrast_normalize", "local_contrast_normalize", "gaussian_kernel1d", "one_hot",
]
