"""``shendu.nn.functional`` (imported as ``F``): stateless layer functions, activations and losses.

Each family lives in its own module here and is re-exported below."""
from .activation import (  # noqa: F401  (issue 3: activations)
    abs_rectification, celu, cosine_unit, elu, erf, gelu, get_activation, hardsigmoid, hardswish, hardtanh,
    heaviside, identity, leaky_relu, log_softmax, logsigmoid, mish, prelu, rbf, relu, relu6, selu, sigmoid, silu,
    soft_max_value, softmax, softmin, softplus, softsign, step, swish, tanh,
)
from .linear import bilinear, linear  # noqa: F401
from .loss import (  # noqa: F401  (issue 3: losses)
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, gaussian_nll_loss, gaussian_nll_precision,
    hinge_embedding_loss, hinge_loss, huber_loss, kl_div, l1_loss, lp_loss, margin_ranking_loss, mdn_nll, mse_loss,
    multi_margin_loss, multilabel_soft_margin_loss, nll_loss, quadratic_cost, sigmoid_cross_entropy, smooth_l1_loss,
    soft_margin_loss,
)
from .dropout import alpha_dropout, dropout, dropout1d, dropout2d, dropout3d  # noqa: F401
from .embedding import embedding  # noqa: F401
from .normalization import batch_norm, layer_norm, local_response_norm, rms_norm  # noqa: F401
from .distance import cdist, cosine_embedding_loss, cosine_similarity, pairwise_distance, triplet_margin_loss  # noqa: F401
from .conv import (  # noqa: F401  (issue 6: convolution)
    conv1d, conv2d, conv2d_fft, conv2d_separable, conv3d, conv_plan, conv_transpose1d, conv_transpose2d,
    conv_transpose3d, fold, separable_factors, unfold,
)
from .pool import (  # noqa: F401  (issue 6: pooling)
    adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, avg_pool3d, global_avg_pool2d,
    global_max_pool2d, lp_pool1d, lp_pool2d, max_pool1d, max_pool2d, max_pool3d,
)
from .rnn import gru_cell, leaky_rnn_cell, lengths_to_mask, lstm_cell, recurrent_layer, rnn_relu_cell, rnn_tanh_cell  # noqa: F401  (issue 7)
from ...ops import one_hot, pad  # noqa: F401,E402  (issue 12: torch.nn.functional names)
from .attention import scaled_dot_product_attention  # noqa: F401,E402  (issue 12)
from .ctc import ctc_loss  # noqa: F401,E402  (issue 16)
from .group_norm import group_norm, normalize  # noqa: F401,E402  (issue 12: torch.nn.functional names)
from .resample import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401,E402  (issue 12)
from .shrink import glu, hardshrink, softshrink, tanhshrink, threshold  # noqa: F401,E402  (issue 12)
