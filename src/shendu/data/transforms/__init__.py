"""Batch image transforms for (N, C, H, W) arrays: augmentation and per-image normalization."""
from .affine import RandomAffine, RandomShear, RandomZoom, affine, shear, zoom
from .audio import AudioAugment, add_noise_snr, speed_perturb, time_shift
from .base import Compose, Transform
from .crop import CenterCrop, RandomCrop, RandomTranslation
from .flip import RandomHorizontalFlip
from .noise import GaussianNoise
from .extra import (  # hcovB: textbook 12.2.1
    ElasticDistortion, PCAColorJitter, RangeCheck, Resize, elastic_field, fit_pca_color, flip_views, resize,
    ten_crop_views, tta_predict, warp_by_field,
)
from .normalize import PerImageStandardization
from .rotation import RandomRotation, rotate

__all__ = [
    "Transform", "Compose", "RandomCrop", "CenterCrop", "RandomTranslation", "RandomHorizontalFlip",
    "RandomRotation", "rotate", "PerImageStandardization", "GaussianNoise",
    "RandomZoom", "RandomShear", "RandomAffine", "affine", "zoom", "shear",
    "AudioAugment", "add_noise_snr", "time_shift", "speed_perturb",
    "Resize", "resize", "PCAColorJitter", "fit_pca_color", "ElasticDistortion", "elastic_field", "warp_by_field",
    "RangeCheck", "tta_predict", "ten_crop_views", "flip_views",
]
