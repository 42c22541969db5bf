"""Autoencoders (text 004 L93; 000 l.799, l.2088-2111; textbook 7.x denoising/sparse penalties, 9.x transposed conv).

An autoencoder learns h = f(x) (encoder) and r = g(h) (decoder) with r ~ x, minimising L(x, g(f(x))) + Omega(h):
- undercomplete: dim h < dim x;
- denoising: reconstruct x from a corrupted x~ ~ C(x~ | x) (masking noise: each input zeroed with prob ``noise_level``;
  Gaussian: x + noise_level * N(0, I)); corruption is applied in training mode only;
- sparse: Omega(h) = beta * sum_j KL(rho || rho_hat_j) (rho_hat_j = batch mean of sigmoid code unit j) or
  beta * mean_n ||h_n||_1;
- tied weights: the decoder uses the encoder's weights transposed, g(h) = s(h W + b') (000 l.2105, W^T W x);
- convolutional: Conv2d encoder, ConvTranspose2d decoder.
Shapes: ``AutoEncoder`` x (N, sizes[0]); ``ConvAutoEncoder`` x (N, C, H, W) with H, W divisible by 2^len(channels).
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import _wrap
from ..backend import generator_for
from ..nn.containers import ModuleList
from ..nn.functional.activation import get_activation
from ..nn.functional.loss import binary_cross_entropy, mse_loss
from ..nn.layers.conv import Conv2d, ConvTranspose2d
from ..nn.layers.linear import Linear
from ..nn.module import Module
from ..nn.parameter import Parameter

__all__ = ["AutoEncoder", "ConvAutoEncoder", "corrupt", "kl_sparsity_penalty", "l1_activity_penalty"]

_NOISE = (None, "mask", "gaussian")


def corrupt(x, kind: str = "mask", level: float = 0.25):
    """Denoising corruption C(x~ | x): 'mask' zeroes each entry with probability ``level``; 'gaussian' adds
    level * N(0, 1). Drawn on x's device; x: any shape. The result is x times/plus a constant (differentiable in x)."""
    if kind not in ("mask", "gaussian"):
        raise ValueError(f"corrupt: kind must be 'mask' or 'gaussian', got {kind!r}")
    if level < 0 or (kind == "mask" and level > 1):
        raise ValueError(f"corrupt: level must be in [0, 1] for masking noise and >= 0 for Gaussian noise, got {level}")
    arr = x._data
    gen = generator_for(arr)
    if kind == "mask":
        keep = (gen.random(arr.shape, dtype=arr.dtype) >= level).astype(arr.dtype)
        return x * _wrap(keep)
    return x + _wrap(gen.standard_normal(arr.shape, dtype=arr.dtype) * level)


def kl_sparsity_penalty(h, rho: float = 0.05, eps: float = 1e-6):
    """sum_j KL(rho || rho_hat_j) = rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j)),
    rho_hat_j = mean_n h_nj of a sigmoid code h: (N, k). A scalar."""
    if not 0.0 < rho < 1.0:
        raise ValueError(f"kl_sparsity_penalty: rho must be in (0, 1), got {rho}")
    q = h.reshape(h.shape[0], -1).mean(0).clamp(eps, 1 - eps)
    return (rho * (rho / q).log() + (1 - rho) * ((1 - rho) / (1 - q)).log()).sum()


def l1_activity_penalty(h):
    """mean_n ||h_n||_1 of a code h: (N, ...). A scalar."""
    return h.abs().reshape(h.shape[0], -1).sum(-1).mean()


class _AEBase(Module):
    def _setup_common(self, noise, noise_level, sparsity, sparsity_target, sparsity_weight, loss):
        if noise not in _NOISE:
            raise ValueError(f"{type(self).__name__}: noise must be one of {_NOISE}, got {noise!r}")
        if sparsity not in (None, "kl", "l1"):
            raise ValueError(f"{type(self).__name__}: sparsity must be None, 'kl' or 'l1', got {sparsity!r}")
        if loss not in ("mse", "bce"):
            raise ValueError(f"{type(self).__name__}: loss must be 'mse' or 'bce', got {loss!r}")
        self.noise, self.noise_level = noise, float(noise_level)
        self.sparsity, self.sparsity_target, self.sparsity_weight = (
            sparsity,
            float(sparsity_target),
            float(sparsity_weight),
        )
        self.loss_kind = loss
        self.last_code = None

    def forward(self, x):
        """Reconstruction g(f(x~)); x~ = corrupt(x) in training mode when ``noise`` is set.

        Keeps the code in ``last_code``."""
        if self.training and self.noise is not None and self.noise_level > 0:
            x = corrupt(x, self.noise, self.noise_level)
        h = self.encode(x)
        self.last_code = h
        return self.decode(h)

    def penalty(self, h):
        """Omega(h): sparsity_weight * (KL sparsity or L1 activity) of the code; 0 without ``sparsity``."""
        if self.sparsity is None or self.sparsity_weight == 0:
            return h.sum() * 0.0
        pen = kl_sparsity_penalty(h, self.sparsity_target) if self.sparsity == "kl" else l1_activity_penalty(h)
        return self.sparsity_weight * pen

    def loss(self, x, target=None):
        """L(x, g(f(x~))) + Omega(h): MSE (or BCE for data in [0, 1]) against ``target`` (default x)."""
        r = self(x)
        t = x if target is None else target
        rec = mse_loss(r, t) if self.loss_kind == "mse" else binary_cross_entropy(r, t)
        return rec + self.penalty(self.last_code)

    def reconstruct(self, x):
        """Mean reconstruction without corruption (evaluation mode for this call)."""
        was = self.training
        self.train(False)
        try:
            return self.decode(self.encode(x))
        finally:
            self.train(was)


class AutoEncoder(_AEBase):
    """MLP autoencoder: encoder sizes[0] -> ... -> sizes[-1] (the code), mirrored decoder (text 004; 000 l.2105).

    ``tied=True``: decoder layer i computes h W_i + b'_i with the encoder's W_i (no decoder weights).
    ``noise='mask'|'gaussian'``, ``noise_level``: denoising; ``sparsity='kl'|'l1'``, ``sparsity_weight``,
    ``sparsity_target`` (rho, KL only; needs the sigmoid code). x: (N, sizes[0]) -> (N, sizes[0])."""

    def __init__(self, sizes, activation="sigmoid", output_activation="sigmoid", tied: bool = False,
                 noise=None, noise_level: float = 0.0, sparsity=None, sparsity_target: float = 0.05,
                 sparsity_weight: float = 0.0, loss: str = "mse", dtype=None):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) <= 0:
            raise ValueError(f"AutoEncoder: sizes must list >= 2 positive widths (input, ..., code), got {sizes}")
        if sparsity == "kl" and activation != "sigmoid":
            raise ValueError(
                f"AutoEncoder: sparsity='kl' needs a sigmoid code (activation='sigmoid'), got {activation!r}"
            )
        self._setup_common(noise, noise_level, sparsity, sparsity_target, sparsity_weight, loss)
        self.sizes, self.tied = sizes, bool(tied)
        self.act, self.out_act = get_activation(activation), get_activation(output_activation)
        self.encoder = ModuleList([Linear(a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])])
        if self.tied:
            for i, lin in enumerate(self.encoder):
                setattr(self, f"decoder_bias{i}", Parameter(np.zeros(sizes[i], dtype=lin.weight.dtype)))
        else:
            self.decoder = ModuleList(
                [Linear(b, a, dtype=dtype) for a, b in reversed(list(zip(sizes[:-1], sizes[1:])))]
            )

    def encode(self, x):
        """h = f(x): every encoder layer followed by ``activation``. (N, sizes[0]) -> (N, sizes[-1])."""
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(
                f"AutoEncoder{tuple(self.sizes)}: expected input (N, {self.sizes[0]}), got {tuple(x.shape)}"
            )
        for lin in self.encoder:
            x = self.act(lin(x))
        return x

    def decode(self, h):
        """r = g(h): mirrored layers, ``activation`` inside, ``output_activation`` last. (N, code) -> (N, sizes[0])."""
        n = len(self.encoder)
        for j in range(n):
            i = n - 1 - j  # the encoder layer this decoder layer mirrors
            if self.tied:
                h = h @ self.encoder[i].weight + getattr(self, f"decoder_bias{i}")
            else:
                h = self.decoder[j](h)
            h = self.out_act(h) if j == n - 1 else self.act(h)
        return h


class ConvAutoEncoder(_AEBase):
    """Convolutional autoencoder: Conv2d(k, stride 2) encoder, ConvTranspose2d(k, stride 2) decoder (000 l.2088-2111).

    Each stage halves H and W (kernel 4, stride 2, padding 1) and the decoder doubles them back.
    x: (N, in_channels, H, W) -> same shape; the code is (N, channels[-1], H / 2^L, W / 2^L)."""

    def __init__(self, in_channels: int = 1, channels=(8, 16), activation="relu", output_activation="sigmoid",
                 noise=None, noise_level: float = 0.0, sparsity=None, sparsity_target: float = 0.05,
                 sparsity_weight: float = 0.0, loss: str = "mse", dtype=None):
        super().__init__()
        chans = [int(in_channels)] + [int(c) for c in channels]
        if len(chans) < 2 or min(chans) <= 0:
            raise ValueError(f"ConvAutoEncoder: need positive in_channels and >= 1 channel width, got {chans}")
        self._setup_common(noise, noise_level, sparsity, sparsity_target, sparsity_weight, loss)
        self.chans = chans
        self.act, self.out_act = get_activation(activation), get_activation(output_activation)
        self.encoder = ModuleList(
            [Conv2d(a, b, 4, stride=2, padding=1, dtype=dtype) for a, b in zip(chans[:-1], chans[1:])]
        )
        self.decoder = ModuleList([ConvTranspose2d(b, a, 4, stride=2, padding=1, dtype=dtype)
                                   for a, b in reversed(list(zip(chans[:-1], chans[1:])))])

    def encode(self, x):
        f = 2 ** (len(self.chans) - 1)
        if x.ndim != 4 or x.shape[1] != self.chans[0] or x.shape[2] % f or x.shape[3] % f:
            raise ValueError(f"ConvAutoEncoder: expected input (N, {self.chans[0]}, H, W) with H, W divisible by {f}, "
                             f"got {tuple(x.shape)}")
        for conv in self.encoder:
            x = self.act(conv(x))
        return x

    def decode(self, h):
        n = len(self.decoder)
        for j, deconv in enumerate(self.decoder):
            h = deconv(h)
            h = self.out_act(h) if j == n - 1 else self.act(h)
        return h
