"""Batch image transforms for (N, C, H, W) arrays: augmentation and per-image normalization."""
from .affine import RandomAffine, RandomShear, RandomZoom, affine, shear, zoom
from .audio import AudioAugment, add_noise_snr, speed_perturb, time_shift
from .base import Compose, Transform
from .crop import CenterCrop, RandomCrop, RandomTranslation
from .flip import RandomHorizontalFlip
from .noise import GaussianNoise
from .normalize import PerImageStandardization
from .rotation import RandomRotation, rotate

__all__ = [
    "Transform", "Compose", "RandomCrop", "CenterCrop", "RandomTranslation", "RandomHorizontalFlip",
    "RandomRotation", "rotate", "PerImageStandardization", "GaussianNoise",
    "RandomZoom", "RandomShear", "RandomAffine", "affine", "zoom", "shear",
    "AudioAugment", "add_noise_snr", "time_shift", "speed_perturb",
]
