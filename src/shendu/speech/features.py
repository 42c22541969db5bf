"""Speech front end (textbook 12.3: 20 ms frames, spectral features, a window of frames around each frame).

Host-side NumPy code (audio is read and featurised before it becomes a tensor):
framing x[t*hop : t*hop + frame_length]; STFT X[t, k] = sum_n w[n] x_t[n] e^{-2 pi i k n / n_fft} (torch.stft
conventions: periodic Hann window, ``center`` pads n_fft // 2 by reflection); power spectrogram |X|^2;
mel scale m = 2595 log10(1 + f / 700) (HTK); triangular mel filters; log-mel = log(P M^T + eps);
context stacking [x_{t-k}, ..., x_{t+k}] (edge frames repeated); per-utterance mean/variance normalisation.
Shapes: signal (n,) or (B, n) -> frames (..., T, frame_length), spectra (..., T, n_fft // 2 + 1).
"""
from __future__ import annotations

import numpy as np

__all__ = ["frame_signal", "get_window", "stft", "spectrogram", "hz_to_mel", "mel_to_hz", "mel_filterbank",
           "log_mel_spectrogram", "stack_context", "cmvn"]


def _signal(x, who):
    x = np.asarray(x)
    if x.ndim not in (1, 2) or not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{who}: expected a real signal (n,) or (B, n), got shape {x.shape} dtype {x.dtype}")
    return x


def frame_signal(x, frame_length, hop_length):
    """Frames (..., T, frame_length) with T = 1 + (n - frame_length) // hop (no padding)."""
    x = _signal(x, "frame_signal")
    if frame_length < 1 or hop_length < 1:
        raise ValueError(f"frame_signal: frame_length and hop_length must be >= 1, got {frame_length}, {hop_length}")
    n = x.shape[-1]
    if n < frame_length:
        raise ValueError(f"frame_signal: signal of {n} samples is shorter than one frame ({frame_length})")
    T = 1 + (n - frame_length) // hop_length
    idx = np.arange(frame_length)[None, :] + hop_length * np.arange(T)[:, None]
    return x[..., idx]


def get_window(window, length):
    """'hann' (periodic, as torch.hann_window), 'hamming' (periodic), 'rect', or an array of ``length``."""
    if isinstance(window, str):
        n = np.arange(length)
        if window == "hann":
            return 0.5 - 0.5 * np.cos(2 * np.pi * n / length)
        if window == "hamming":
            return 0.54 - 0.46 * np.cos(2 * np.pi * n / length)
        if window in ("rect", "boxcar", "ones"):
            return np.ones(length)
        raise ValueError(f"get_window: unknown window {window!r} (hann, hamming, rect)")
    w = np.asarray(window, dtype=np.float64)
    if w.shape != (length,):
        raise ValueError(f"get_window: window of shape {w.shape}, expected ({length},)")
    return w


def stft(x, n_fft=400, hop_length=None, win_length=None, window="hann", center=True, pad_mode="reflect"):
    """Complex STFT (..., T, n_fft // 2 + 1) (time first; torch.stft returns its transpose)."""
    x = _signal(x, "stft").astype(np.float64)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if win_length > n_fft:
        raise ValueError(f"stft: win_length {win_length} > n_fft {n_fft}")
    w = get_window(window, win_length)
    left = (n_fft - win_length) // 2
    w = np.pad(w, (left, n_fft - win_length - left))  # centred in n_fft, as torch
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        x = np.pad(x, pad, mode=pad_mode)
    return np.fft.rfft(frame_signal(x, n_fft, hop_length) * w, axis=-1)


def spectrogram(x, n_fft=400, hop_length=None, win_length=None, window="hann", center=True, power=2.0):
    """|STFT|^power (..., T, n_fft // 2 + 1)."""
    return np.abs(stft(x, n_fft, hop_length, win_length, window, center)) ** power


def hz_to_mel(f):
    """HTK mel scale 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate, n_fft, n_mels=40, f_min=0.0, f_max=None):
    """Triangular filters M (n_mels, n_fft // 2 + 1): filter j rises from mel point j to j + 1 and falls to j + 2,
    n_mels + 2 points equally spaced in mel between f_min and f_max (peak 1; torchaudio's norm=None, htk)."""
    f_max = sample_rate / 2.0 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2.0:
        raise ValueError(f"mel_filterbank: need 0 <= f_min < f_max <= sample_rate / 2, got {f_min}, {f_max}")
    freqs = np.linspace(0, sample_rate / 2.0, n_fft // 2 + 1)
    pts = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    lo, mid, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    up = (freqs[None] - lo) / (mid - lo)
    down = (hi - freqs[None]) / (hi - mid)
    return np.maximum(0.0, np.minimum(up, down))


def log_mel_spectrogram(x, sample_rate, n_fft=None, frame_ms=20.0, hop_ms=10.0, n_mels=40, f_min=0.0, f_max=None,
                        eps=1e-10, dtype=np.float32):
    """log(power spectrogram @ mel filters^T + eps) with frame_ms windows every hop_ms (defaults 20 / 10 ms):
    (..., T, n_mels) in ``dtype``."""
    win = int(round(sample_rate * frame_ms / 1000.0))
    hop = int(round(sample_rate * hop_ms / 1000.0))
    n_fft = int(2 ** np.ceil(np.log2(win))) if n_fft is None else n_fft
    P = spectrogram(x, n_fft, hop, win, "hann", center=True)
    return np.log(P @ mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max).T + eps).astype(dtype)


def stack_context(feats, k):
    """Frames (T, D) -> (T, (2k + 1) D): each frame with its k neighbours on each side (edges repeated)."""
    feats = np.asarray(feats)
    if feats.ndim != 2 or k < 0:
        raise ValueError(f"stack_context: expected features (T, D) and k >= 0, got {feats.shape}, k={k}")
    T = feats.shape[0]
    idx = np.clip(np.arange(T)[:, None] + np.arange(-k, k + 1)[None, :], 0, T - 1)
    return feats[idx].reshape(T, -1)


def cmvn(feats, eps=1e-8):
    """Per-utterance mean and variance normalisation over time (axis -2)."""
    feats = np.asarray(feats)
    mu = feats.mean(-2, keepdims=True)
    sd = feats.std(-2, keepdims=True)
    return ((feats - mu) / (sd + eps)).astype(feats.dtype)
