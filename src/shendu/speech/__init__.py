"""``shendu.speech``: speech recognition pieces (textbook 12.3): features, CTC decoding, error rates,
a synthetic task and a BiLSTM acoustic model. The CTC loss itself is ``nn.functional.ctc_loss`` / ``nn.CTCLoss``."""
from ..nn.functional.ctc import ctc_loss  # noqa: F401
from .decode import ctc_collapse, ctc_greedy_decode, ctc_prefix_beam_search  # noqa: F401
from .features import (  # noqa: F401
    cmvn, frame_signal, get_window, hz_to_mel, log_mel_spectrogram, mel_filterbank, mel_to_hz, spectrogram,
    stack_context, stft,
)
from .metrics import cer, edit_distance, edit_operations, error_rate, per, wer  # noqa: F401
from .models import BiLSTMCTC  # noqa: F401
from .synthetic import make_tone_dataset, synth_utterance  # noqa: F401
from .hmm import DiagGMM, HybridDNNHMM, PhoneLoopHMM, forward_loglik, viterbi  # noqa: F401
