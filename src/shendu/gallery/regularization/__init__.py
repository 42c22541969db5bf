"""Gallery: regularization: L2 vs dropout vs early stopping on a small training set (textbook 7.1, 7.8, 7.12),
early stopping acts as L2 (textbook 7.8), bagging ensembles (textbook 7.11) and adversarial examples (7.13).

Modules in page order (importing them registers the experiments in that order): penalties_stopping,
ensembles_adversarial, sparsity_scaling; _common holds the shared trial.
"""
from .penalties_stopping import regularizers, early_stopping_l2  # noqa: F401
from .ensembles_adversarial import ensembles, adversarial  # noqa: F401
from .sparsity_scaling import l1_sparsity, separable_logistic, dropout_weight_scaling  # noqa: F401
