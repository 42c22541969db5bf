"""Optimisation strategies of textbook 8.7 (and 8.3-8.4 schedules/initialisations).

transfer: freeze/unfreeze, transfer of the first k layers, greedy supervised pretraining (Fig. 8.7);
hints: FitNets hint regression, deeply supervised auxiliary heads; continuation: blurred objectives (8.40);
momentum: momentum schedules; init: output bias from class marginals (W8.22), LSUV-style data-driven init.
Curriculum learning is ``shendu.data.curriculum.CurriculumSampler``; highway layers are ``shendu.nn.Highway``.
"""
from .continuation import blurred_objective, continuation
from .hints import DeeplySupervised, FeatureRecorder, FitNetHint, deeply_supervised_loss
from .init import init_output_bias, lsuv_init
from .momentum import MomentumScheduler, linear_momentum, sutskever_momentum
from .transfer import freeze, greedy_supervised_pretraining, parameterised_layers, transfer_layers, unfreeze
from ._loop import accuracy, minibatch_fit

__all__ = ["blurred_objective", "continuation", "DeeplySupervised", "FeatureRecorder", "FitNetHint",
           "deeply_supervised_loss", "init_output_bias", "lsuv_init", "MomentumScheduler", "linear_momentum",
           "sutskever_momentum", "freeze", "unfreeze", "parameterised_layers", "transfer_layers",
           "greedy_supervised_pretraining", "accuracy", "minibatch_fit"]
