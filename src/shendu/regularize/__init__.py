"""Regularization (textbook chapter 7): parameter-norm penalties, constraints, noise, semi-supervised and
multi-task learning, sparse representations, ensembles, dropout inference and adversarial training.

Layers that regularize (noise, DropConnect, ...) live in `shendu.nn`; this package holds the penalties,
projections and training procedures that act on whole models.
"""
# --- penalties, constraints, proximal steps (7.1-7.3) ---
from .analysis import (  # noqa: F401  (quadratic analysis 7.1.1-7.1.2, 7.2.5, early stopping vs L2 7.8)
    ShrinkageResult, dropout_ridge, early_stopping_factors, eigen_shrinkage, equivalent_weight_decay,
    gradient_descent_path, l1_optimum, l2_factors, l2_optimum, ridge, ridge_operator, separable_logistic_path,
)
from .penalties import L1, L2, ElasticNet, NormConstraintPenalty, Penalty, selected_parameters  # noqa: F401
from .proximal import ProximalL1, soft_threshold  # noqa: F401
from .constraints import (  # noqa: F401
    Constraint, L1Ball, L2Ball, MaxNorm, NonNeg, apply_constraints, project_l1_ball,
)
# --- noise, label smoothing, sparse representations, tying, multi-task (7.5-7.10) ---
from .noise import smooth_labels  # noqa: F401
from .sparse import (  # noqa: F401
    ActivityKL, ActivityL1, ActivityStudentT, MeanActivationTarget, StudentT, omp,
)
from .tying import TiedPenalty, share_parameters  # noqa: F401
from .multitask import multitask_loss  # noqa: F401
# --- ensembles, dropout inference, adversarial and semi-supervised training (7.6, 7.11-7.13) ---
from .ensemble import (  # noqa: F401
    AdaBoost, Bagging, Ensemble, average, bootstrap_indices, bootstrap_sample, ensemble_mse, expected_unique_fraction,
    simulate_ensemble_mse,
)
from .dropout_inference import (  # noqa: F401
    dropout_expectation, dropout_modules, enumerate_masks, exact_dropout_predict, linear_dropout_penalty,
    mask_probabilities, mc_dropout_predict, subnetworks,
)
from .adversarial import (  # noqa: F401
    adversarial_fit, adversarial_loss, fgsm, input_jvp, linear_perturbation_bound, pgd, robust_accuracy,
    tangent_prop_penalty, translation_tangent,
)
from .semi_supervised import (  # noqa: F401
    generative_discriminative_loss, kl_logits, pseudo_label, self_training, vat_loss,
)
# --- fast/boosted dropout and tangent distance (7.12, original book 7.14; issue 14, h14e) ---
from .dropout_boosting import dropout_boosting_loss  # noqa: F401,E402
from .tangent import (  # noqa: F401,E402
    ContractiveAutoEncoder, TangentNearestNeighbor, image_tangents, manifold_tangent_penalty, tangent_distance,
    tangent_nearest_neighbor,
)
