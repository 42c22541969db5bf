"""Speech front end, CTC decoding, error rates, and a BiLSTM + CTC model that learns a synthetic task."""
import itertools

import numpy as np
import pytest

import shendu as sd
from shendu.nn import functional as F
from shendu.speech import (
    BiLSTMCTC,
    cer,
    ctc_collapse,
    ctc_greedy_decode,
    ctc_prefix_beam_search,
    edit_distance,
    edit_operations,
    frame_signal,
    hz_to_mel,
    log_mel_spectrogram,
    make_tone_dataset,
    mel_filterbank,
    mel_to_hz,
    per,
    spectrogram,
    stack_context,
    stft,
    wer,
)


def test_framing_20ms_frames_10ms_hop():
    x = np.arange(16000 * 0.1)  # 100 ms at 16 kHz
    fr = frame_signal(x, 320, 160)
    assert fr.shape == (9, 320)
    np.testing.assert_array_equal(fr[2], x[320:640])
    with pytest.raises(ValueError, match="shorter than one frame"):
        frame_signal(x[:100], 320, 160)


@pytest.mark.parametrize("center", [True, False])
def test_stft_matches_torch(center):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 1000))
    ours = stft(x, n_fft=256, hop_length=80, win_length=160, window="hann", center=center)
    ref = torch.stft(torch.tensor(x), 256, 80, 160, torch.hann_window(160, dtype=torch.float64), center=center,
                     return_complex=True).numpy()
    np.testing.assert_allclose(ours, np.swapaxes(ref, -1, -2), atol=1e-9)


def test_mel_scale_and_filterbank():
    assert abs(hz_to_mel(1000.0) - 1000.0) < 0.05  # HTK mel is ~ identity at 1 kHz
    np.testing.assert_allclose(mel_to_hz(hz_to_mel([0.0, 440.0, 3000.0])), [0.0, 440.0, 3000.0])
    M = mel_filterbank(8000, 256, n_mels=10)
    assert M.shape == (10, 129) and M.min() >= 0 and M.max() <= 1
    peaks = M.argmax(1)
    assert np.all(np.diff(peaks) > 0)  # centres increase with the band index
    # a 1 kHz tone lands in the band whose centre is nearest 1 kHz
    sr = 8000
    tone = np.sin(2 * np.pi * 1000 * np.arange(sr // 4) / sr)
    lm = log_mel_spectrogram(tone, sr, n_mels=10)
    assert lm.shape[1] == 10 and lm.dtype == np.float32
    centres = mel_to_hz(np.linspace(0, hz_to_mel(4000), 12))[1:-1]
    assert lm.mean(0).argmax() == np.abs(centres - 1000).argmin()
    P = spectrogram(tone, 256, 80, 160)
    assert P.shape[1] == 129 and P.mean(0).argmax() == 32  # bin 1000 / (8000 / 256)


def test_stack_context():
    f = np.arange(8, dtype=float).reshape(4, 2)
    s = stack_context(f, 1)
    assert s.shape == (4, 6)
    np.testing.assert_array_equal(s[0], [0, 1, 0, 1, 2, 3])  # edge frame repeated
    np.testing.assert_array_equal(s[2], [2, 3, 4, 5, 6, 7])


def test_edit_distance_and_error_rates():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_operations("kitten", "sitting") == (2, 0, 1)
    assert edit_distance([], [1, 2]) == 2
    assert wer("the cat sat on the mat", "the cat sit on mat") == pytest.approx(2 / 6)
    # corpus rate: total edits over total reference length, not the mean of the two rates
    assert wer(["a b", "c d e f"], ["a x", "c d e f g"]) == pytest.approx(2 / 6)
    assert cer("abcd", "abd") == pytest.approx(1 / 4)
    assert per([[1, 2, 3]], [[1, 3]]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        wer(["a", "b"], ["a"])


def test_greedy_decode_collapses_repeats_then_blanks():
    assert ctc_collapse([1, 1, 0, 2, 0, 2, 2, 0]) == [1, 2, 2]
    path = [1, 1, 0, 2, 2, 0, 0, 3]
    lp = np.log(np.full((8, 4), 0.1))
    lp[np.arange(8), path] = np.log(0.7)
    assert ctc_greedy_decode(lp) == [1, 2, 3]
    batch = np.stack([lp, lp[::-1]], 1)
    assert ctc_greedy_decode(batch, lengths=[8, 3]) == [[1, 2, 3], [3]]


def _best_labelling_brute(lp):
    T, C = lp.shape
    tot = {}
    for path in itertools.product(range(C), repeat=T):
        k = tuple(ctc_collapse(path))
        tot[k] = tot.get(k, 0.0) + np.exp(lp[np.arange(T), list(path)].sum())
    return max(tot.items(), key=lambda kv: kv[1])


def test_prefix_beam_search_finds_the_most_probable_labelling():
    # a case where best-path (greedy) decoding and the most probable labelling differ
    p = np.array([[0.4, 0.6, 0.0], [0.4, 0.6, 0.0]]) * 0.98 + 0.01 / 3
    lp = np.log(np.array([[0.35, 0.33, 0.32], [0.35, 0.33, 0.32], [0.35, 0.33, 0.32]]))
    for lp_case in (lp, np.log(p / p.sum(1, keepdims=True)),
                    np.log(np.random.default_rng(0).dirichlet(np.ones(3), 5))):
        best, prob = _best_labelling_brute(lp_case)
        res = ctc_prefix_beam_search(lp_case, beam_width=50)
        assert tuple(res[0][0]) == best
        np.testing.assert_allclose(res[0][1], np.log(prob), rtol=1e-10)
        # and its score is -ctc_loss of that labelling
        if best:
            nll = F.ctc_loss(sd.tensor(lp_case), [list(best)], len(lp_case), len(best), reduction="sum").numpy()
            np.testing.assert_allclose(res[0][1], -nll, rtol=1e-8)
    assert ctc_greedy_decode(lp) == []  # blank wins every frame ...
    assert ctc_prefix_beam_search(lp, 10)[0][0] in ([1], [2])  # ... but a one-label transcript is likelier


def test_bilstm_ctc_learns_synthetic_phones():
    """A BiLSTM + CTC learns tone 'phones' from log-mel frames: held-out greedy PER < 0.12 (about 6 s)."""
    X, L, Y, TL, _ = make_tone_dataset(160, n_phones=4, seed=0)
    Xv, Lv, _, _, labsv = make_tone_dataset(40, n_phones=4, seed=1)
    model = BiLSTMCTC(X.shape[2], 24, 5)
    opt = sd.optim.Adam(model.parameters(), lr=0.02)
    model.eval()
    with sd.no_grad():
        per0 = per(labsv, ctc_greedy_decode(model(sd.tensor(Xv), lengths=Lv), Lv))
    model.train()
    for _ in range(22):
        for i in range(0, 160, 32):
            sl = slice(i, i + 32)
            lp = model(sd.tensor(X[:L[sl].max(), sl]), lengths=L[sl])
            loss = F.ctc_loss(lp, Y[sl], L[sl], TL[sl])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with sd.no_grad():
        lpv = model(sd.tensor(Xv), lengths=Lv)
    per_greedy = per(labsv, ctc_greedy_decode(lpv, Lv))
    per_beam = per(labsv, [r[0][0] for r in ctc_prefix_beam_search(lpv, 4, lengths=Lv)])
    assert per0 > 0.5
    assert per_greedy < 0.12, per_greedy
    assert per_beam <= per_greedy + 0.02
