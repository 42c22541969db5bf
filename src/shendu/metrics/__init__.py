"""Metrics (textbook 11.1): NumPy arrays or shendu Tensors in, floats or arrays out."""
from .classification import (accuracy, confusion_matrix, f1_score, precision, precision_recall_fscore, recall,
                             top_k_accuracy)
from .cost import cost_sensitive_error
from .coverage import accuracy_at_coverage, coverage
from .ranking import average_precision, precision_recall_curve, roc_auc_score, roc_curve

__all__ = [
    "accuracy", "top_k_accuracy", "confusion_matrix", "precision", "recall", "f1_score",
    "precision_recall_fscore", "precision_recall_curve", "average_precision", "roc_curve", "roc_auc_score",
    "coverage", "accuracy_at_coverage", "cost_sensitive_error",
]
