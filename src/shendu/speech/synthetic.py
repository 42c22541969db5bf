"""A small synthetic speech-like task: "phones" are tones (two formant-like partials) of random length,
separated by short silences, in noise; the transcript is the phone sequence (labels 1..n_phones, 0 = blank).
Host-side NumPy; features are log-mel frames (textbook 12.3 front end)."""
from __future__ import annotations

import numpy as np

from .features import cmvn, log_mel_spectrogram

__all__ = ["PHONE_FREQS", "synth_utterance", "make_tone_dataset"]

#: (f1, f2) in Hz per phone 1..6.
PHONE_FREQS = [(300, 2300), (700, 1200), (500, 1700), (1100, 2800), (400, 900), (900, 3200)]


def synth_utterance(labels, sample_rate=8000, rng=None, noise=0.05, dur_ms=(60, 110), gap_ms=(20, 40)):
    """Waveform (n,) for a label sequence (values 1..len(PHONE_FREQS))."""
    rng = np.random.default_rng() if rng is None else rng
    parts = [np.zeros(int(sample_rate * rng.uniform(*gap_ms) / 1000))]
    for lab in labels:
        if not 1 <= lab <= len(PHONE_FREQS):
            raise ValueError(f"synth_utterance: label {lab} outside [1, {len(PHONE_FREQS)}]")
        n = int(sample_rate * rng.uniform(*dur_ms) / 1000)
        t = np.arange(n) / sample_rate
        f1, f2 = PHONE_FREQS[lab - 1]
        env = np.hanning(n) ** 0.5
        parts.append(env * (np.sin(2 * np.pi * f1 * t) + 0.6 * np.sin(2 * np.pi * f2 * t + rng.uniform(0, 6.3))))
        parts.append(np.zeros(int(sample_rate * rng.uniform(*gap_ms) / 1000)))
    x = np.concatenate(parts) * rng.uniform(0.5, 1.0)
    return x + noise * rng.standard_normal(x.shape)


def make_tone_dataset(n, n_phones=4, min_len=2, max_len=4, sample_rate=8000, n_mels=20, seed=0):
    """n utterances -> (feats (T_max, n, n_mels) float32 zero-padded, feat_lengths (n,), targets (n, max_len)
    zero-padded, target_lengths (n,), label lists)."""
    if not 1 <= n_phones <= len(PHONE_FREQS):
        raise ValueError(f"make_tone_dataset: n_phones must lie in [1, {len(PHONE_FREQS)}], got {n_phones}")
    rng = np.random.default_rng(seed)
    feats, labels = [], []
    for _ in range(n):
        lab = list(rng.integers(1, n_phones + 1, rng.integers(min_len, max_len + 1)))
        lab = [int(v) for v in lab]
        f = log_mel_spectrogram(synth_utterance(lab, sample_rate, rng), sample_rate, n_mels=n_mels)
        feats.append(cmvn(f))
        labels.append(lab)
    lens = np.array([f.shape[0] for f in feats])
    X = np.zeros((lens.max(), n, n_mels), np.float32)
    for i, f in enumerate(feats):
        X[:len(f), i] = f
    tl = np.array([len(v) for v in labels])
    Y = np.zeros((n, max_len), np.int64)
    for i, v in enumerate(labels):
        Y[i, :len(v)] = v
    return X, lens, Y, tl, labels
