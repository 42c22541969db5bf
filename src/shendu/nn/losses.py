"""Loss Modules wrapping ``nn.functional`` losses (textbook 6.2.1-6.2.2; seeds ch. 1-3).

Each takes ``reduction='mean'|'sum'|'none'`` and is called as ``loss_fn(input, target)``."""
from __future__ import annotations

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with an optional per-class (or per-element) rescaling ``weight`` (PyTorch's _WeightedLoss)."""

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = weight


class MSELoss(_Loss):
    """mean((y_hat - y)^2)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class QuadraticCost(Module):
    """The seeds' quadratic cost 1/(2N) sum ||y - a||^2 (seeds eq. 1.6)."""

    def forward(self, input, target):
        return F.quadratic_cost(input, target)


class L1Loss(_Loss):
    """mean(|y_hat - y|)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


MAELoss = L1Loss


class LpLoss(_Loss):
    """mean(|y_hat - y|^p)."""

    def __init__(self, p: float = 2.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.p = p

    def forward(self, input, target):
        return F.lp_loss(input, target, self.p, self.reduction)


class HuberLoss(_Loss):
    """0.5 d^2 if |d| < delta else delta (|d| - delta / 2)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """Huber / beta."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy from logits; targets are class indices or probabilities (textbook 6.2.2.3)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0,
                 label_smoothing_form: str = "torch"):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self.label_smoothing_form = label_smoothing_form  # 'book': eps/(k-1) on wrong classes (textbook 7.5.1)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing,
                               self.label_smoothing_form)


class NLLLoss(_WeightedLoss):
    """-log p_y on log-probabilities."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid cross-entropy from logits via softplus (textbook 6.2.2.2)."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.pos_weight = pos_weight

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label sigmoid cross-entropy averaged over labels."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.reduction)


class KLDivLoss(_Loss):
    """t (log t - input) with input = log q; reduction may also be 'batchmean'."""

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, self.reduction, self.log_target)


class GaussianNLLLoss(_Loss):
    """0.5 (log var + (y - mu)^2 / var) with a predicted variance (textbook 6.2.2.4)."""

    def __init__(self, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MDNLoss(_Loss):
    """Mixture-density NLL; forward(logits (N,K), means (N,K,D), log_std (N,K,D), target (N,D))."""

    def forward(self, logits, means, log_std, target):
        return F.mdn_nll(logits, means, log_std, target, self.reduction)


class HingeLoss(_Loss):
    """max(0, margin - y f(x)), y in {-1, +1}."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_loss(input, target, self.margin, self.reduction)


class HingeEmbeddingLoss(HingeLoss):
    """x if y = 1 else max(0, margin - x)."""

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin)."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class SoftMarginLoss(_Loss):
    """softplus(-y x)."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (see ``nn.functional.ctc_loss``; textbook 12.3)."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)
