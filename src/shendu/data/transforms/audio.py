"""Speech/audio augmentation for waveforms (N, T) (textbook 7.4: noise injection and speech-specific transforms;
Jaitly & Hinton 2013; Ko et al. 2015 speed perturbation), NumPy only, vectorized where the lengths allow.

- ``add_noise_snr``: additive white (or given background) noise scaled to a signal-to-noise ratio in dB,
  SNR = 10 log10(P_signal / P_noise), powers as mean squares per waveform.
- ``time_shift``: delay (s > 0) or advance (s < 0) by whole samples, zero fill or circular.
- ``speed_perturb``: resample by linear interpolation, y[t] = x(f t): faster (f > 1) and shorter, pitch shifted as
  in Kaldi's 0.9/1.0/1.1 speed perturbation; ``keep_length`` crops or zero-pads back to T.
- ``AudioAugment``: a random composition of the three (speed, then shift, then noise).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..dataset import to_numpy
from ..loader import as_generator
from .base import Transform

__all__ = ["add_noise_snr", "time_shift", "speed_perturb", "AudioAugment"]


def _waves(who, x):
    x = to_numpy(x, name=f"{who} input")
    if x.ndim not in (1, 2):
        raise ValueError(f"{who}: expected waveforms (N, T) or (T,), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


def _per_row(who, name, v, n):
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 0:
        return np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"{who}: {name} must be a number or one value per waveform ({n},), got shape {v.shape}")
    return v


def add_noise_snr(x, snr_db, rng=None, noise=None):
    """x + n with n scaled so that 10 log10(mean(x^2) / mean(n^2)) = snr_db for each row of x (N, T) or (T,).
    noise: None (white Gaussian) or an array of background recordings (M, L) / (L,): a random one at a random
    offset (tiled when shorter than T). Silent rows (mean(x^2) = 0) are left unchanged."""
    single = np.ndim(x) == 1
    x = _waves("add_noise_snr", x)
    x2 = x[None] if single else x
    n, T = x2.shape
    g = as_generator(rng, name="add_noise_snr rng")
    snr = _per_row("add_noise_snr", "snr_db", snr_db, n)
    if noise is None:
        e = g.standard_normal((n, T))
    else:
        bank = np.asarray(noise, dtype=np.float64)
        bank = bank[None] if bank.ndim == 1 else bank
        if bank.ndim != 2 or bank.shape[1] == 0:
            raise ValueError(f"add_noise_snr: noise must be (M, L) or (L,) recordings, got shape {bank.shape}")
        reps = -(-T // bank.shape[1]) + 1
        tiled = np.tile(bank, (1, reps))
        pick = g.integers(0, bank.shape[0], n)
        off = g.integers(0, bank.shape[1], n)
        e = tiled[pick[:, None], off[:, None] + np.arange(T)]
    ps = np.mean(x2.astype(np.float64) ** 2, axis=1)
    pn = np.mean(e ** 2, axis=1)
    scale = np.sqrt(ps / np.maximum(pn, 1e-300) / 10.0 ** (snr / 10.0))
    out = (x2 + (e * scale[:, None]).astype(x.dtype)).astype(x.dtype, copy=False)
    return out[0] if single else out


def time_shift(x, shifts, fill=0.0, mode="pad"):
    """Shift each row of x (N, T) by shifts[i] samples (> 0 delays); mode 'pad' fills with ``fill``, 'roll' wraps."""
    single = np.ndim(x) == 1
    x = _waves("time_shift", x)
    x2 = x[None] if single else x
    n, T = x2.shape
    s = _per_row("time_shift", "shifts", shifts, n)
    if np.any(s != np.round(s)):
        raise ValueError(f"time_shift: shifts must be whole samples, got {s}")
    s = s.astype(np.intp)
    src = np.arange(T)[None, :] - s[:, None]
    if mode == "roll":
        out = np.take_along_axis(x2, src % T, axis=1)
    elif mode == "pad":
        inside = (src >= 0) & (src < T)
        out = np.where(inside, np.take_along_axis(x2, np.clip(src, 0, T - 1), axis=1), x.dtype.type(fill))
    else:
        raise ValueError(f"time_shift: mode must be 'pad' or 'roll', got {mode!r}")
    return out[0] if single else out


def speed_perturb(x, factors, keep_length=True):
    """Resample each row by linear interpolation, y[t] = x(f t) for t < T / f (f > 1: faster, shorter; Kaldi-style
    speed perturbation, which also shifts the pitch). keep_length: crop or zero-pad to T (one array (N, T));
    else a list of rows of length floor((T - 1) / f) + 1 (one array for a single (T,) input)."""
    single = np.ndim(x) == 1
    x = _waves("speed_perturb", x)
    x2 = x[None] if single else x
    n, T = x2.shape
    f = _per_row("speed_perturb", "factors", factors, n)
    if np.any(f <= 0):
        raise ValueError(f"speed_perturb: factors must be > 0, got {f[f <= 0]}")
    rows = []
    for i in range(n):
        L = int(np.floor((T - 1) / f[i] + 1e-9)) + 1
        t = np.arange(L) * f[i]
        rows.append(np.interp(t, np.arange(T), x2[i]).astype(x.dtype))
    if not keep_length:
        return rows[0] if single else rows
    out = np.zeros_like(x2)
    for i, r in enumerate(rows):
        m = min(T, len(r))
        out[i, :m] = r[:m]
    return out[0] if single else out


class AudioAugment(Transform):
    """Random speech augmentation of waveforms (N, T) or (T,): speed perturbation by a factor from ``speed``
    (a list of choices, e.g. (0.9, 1.0, 1.1), or a range (lo, hi) given as a tuple of two with ``speed_range=True``),
    a time shift uniform in [-max_shift, max_shift] samples, then noise at an SNR uniform in ``snr_db`` (lo, hi) dB
    (or a fixed number); each part off when None/0. ``noise``: optional background recordings for
    ``add_noise_snr``. Keeps the length T."""

    needs_float = True
    image_only = False

    def __init__(self, snr_db=None, max_shift=0, speed=None, speed_range=False, noise=None, shift_mode="pad",
                 rng=None):
        super().__init__(rng)
        if snr_db is not None and not isinstance(snr_db, numbers.Real):
            lo, hi = (float(v) for v in snr_db)
            if lo > hi:
                raise ValueError(f"AudioAugment: snr_db range ({lo}, {hi}) has lo > hi")
            snr_db = (lo, hi)
        if not isinstance(max_shift, numbers.Integral) or max_shift < 0:
            raise ValueError(f"AudioAugment: max_shift must be an int >= 0 (samples), got {max_shift!r}")
        if speed is not None:
            speed = tuple(float(v) for v in speed)
            if not speed or min(speed) <= 0 or (speed_range and (len(speed) != 2 or speed[0] > speed[1])):
                raise ValueError(f"AudioAugment: speed must be positive factors (choices, or (lo, hi) with "
                                 f"speed_range=True), got {speed!r}")
        if shift_mode not in ("pad", "roll"):
            raise ValueError(f"AudioAugment: shift_mode must be 'pad' or 'roll', got {shift_mode!r}")
        self.snr_db, self.max_shift, self.speed, self.speed_range = snr_db, int(max_shift), speed, bool(speed_range)
        self.noise, self.shift_mode = noise, shift_mode

    def apply(self, x):
        single = x.ndim == 1
        if x.ndim not in (1, 2):
            raise ValueError(f"AudioAugment: expected waveforms (N, T) or (T,), got shape {x.shape}")
        x = x[None] if single else x
        n = x.shape[0]
        if self.speed is not None:
            f = self.rng.uniform(*self.speed, n) if self.speed_range else self.rng.choice(self.speed, n)
            x = speed_perturb(x, f)
        if self.max_shift:
            x = time_shift(x, self.rng.integers(-self.max_shift, self.max_shift + 1, n), mode=self.shift_mode)
        if self.snr_db is not None:
            snr = self.rng.uniform(*self.snr_db, n) if isinstance(self.snr_db, tuple) else self.snr_db
            x = add_noise_snr(x, snr, self.rng, self.noise)
        return x[0] if single else x
