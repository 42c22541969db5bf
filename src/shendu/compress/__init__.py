"""Model compression (textbook 12.1.4): mimic a big model on sampled inputs, knowledge distillation, pruning."""
from ..nn.utils import prune  # noqa: F401  (magnitude pruning, torch.nn.utils.prune names)
from .distill import Distiller, corrupt_sampler, distillation_loss, mimic, soft_target_kl  # noqa: F401

__all__ = ["Distiller", "corrupt_sampler", "distillation_loss", "mimic", "prune", "soft_target_kl"]
