"""Losses and output-unit costs (textbook 6.2.1-6.2.2 cost functions and output units, 5.5 maximum
likelihood; seeds ch. 1-3 quadratic and cross-entropy costs), by kind:

* ``regression``: mse_loss, l1_loss, lp_loss, huber_loss, smooth_l1_loss, quadratic_cost;
* ``categorical``: cross_entropy (with its fused Function ``_CrossEntropyIdx``), nll_loss;
* ``binary``: binary_cross_entropy(_with_logits), sigmoid_cross_entropy, multilabel_soft_margin_loss;
* ``probabilistic``: kl_div, gaussian_nll_loss, gaussian_nll_precision, mdn_nll;
* ``margin``: hinge_loss, multi_margin_loss, margin_ranking_loss, hinge_embedding_loss, soft_margin_loss.

All take ``reduction='mean'|'sum'|'none'`` as PyTorch. Cross-entropies are computed from logits through
log-sum-exp / softplus, never log(softmax) or log(sigmoid). Targets and class weights given as host arrays
(or lists) are copied to the input's device (``_common``).
"""
from ._common import _REDUCTIONS, _as_target, _as_weight, _check_same, _min_max, _reduce  # noqa: F401
from .binary import (  # noqa: F401
    _safe_log, binary_cross_entropy, binary_cross_entropy_with_logits, multilabel_soft_margin_loss,
    sigmoid_cross_entropy,
)
from .categorical import _CrossEntropyIdx, _move_class_last, _weighted_ce_idx, cross_entropy, nll_loss  # noqa: F401
from .margin import hinge_embedding_loss, hinge_loss, margin_ranking_loss, multi_margin_loss, soft_margin_loss  # noqa: F401
from .probabilistic import gaussian_nll_loss, gaussian_nll_precision, kl_div, mdn_nll  # noqa: F401
from .regression import huber_loss, l1_loss, lp_loss, mse_loss, quadratic_cost, smooth_l1_loss  # noqa: F401
