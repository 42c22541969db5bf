"""Debugging strategies of textbook 11.5: a monitoring callback (activation/gradient histograms, dead units,
saturation, update ratios, gradient norm and curvature), the tiny-data-set acceptance test, the worst-mistakes
viewer and a vanishing/exploding-gradient report. Gradient checking: shendu.autograd.gradcheck (modes central,
forward, complex; random projections). Cost-sensitive error: shendu.metrics.cost_sensitive_error."""
from .checks import (GradientReport, OverfitReport, deep_sigmoid_net, gradient_report, overfit_tiny_batch,
                     worst_mistakes)
from .monitor import Monitor, activation_layers

__all__ = ["Monitor", "activation_layers", "overfit_tiny_batch", "OverfitReport", "worst_mistakes",
           "gradient_report", "GradientReport", "deep_sigmoid_net"]
