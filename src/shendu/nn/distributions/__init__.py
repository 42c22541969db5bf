"""Output distributions (Textbook 6.2.1.1 / 6.2.2, notes A.5.5): a network computes omega = f(x; theta) and
the loss is -log p(y; omega). torch.distributions names: Bernoulli, Categorical, Normal, MultivariateNormal,
each with ``log_prob``, ``sample``, ``entropy``, ``mean``; ``DistributionHead`` maps features to one of them.

Device-generic: parameters and samples live on the device of the parameter tensors; ``log_prob`` and
``entropy`` are differentiable shendu ops (gradchecked in tests/coverage_ch6_8/test_distributions.py).
"""
from .base import Distribution
from .discrete import Bernoulli, Categorical
from .gaussian import MultivariateNormal, Normal
from .heads import DistributionHead, ReferenceClassLinear, reference_class_logits

__all__ = ["Distribution", "Bernoulli", "Categorical", "Normal", "MultivariateNormal", "DistributionHead",
           "reference_class_logits", "ReferenceClassLinear", "kl_divergence"]


def kl_divergence(p, q):
    """KL(p || q) for two Normals (closed form) or two Categoricals over the same classes."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        vr = (p.scale / q.scale) ** 2
        t = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (vr + t - 1 - vr.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(dim=-1)
    raise TypeError(f"kl_divergence: no closed form for {type(p).__name__} and {type(q).__name__}")
