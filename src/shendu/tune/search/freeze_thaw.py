"""Freeze-thaw (textbook 11.4.5): pick the most promising pruned trials and resume them from their
checkpoints.
"""
from __future__ import annotations

import os

from ..space import parse_space
from .study import make_pruner
from .trial import _wrap_objective


def promising_pruned(study, k=1):
    """The k pruned trials with a kept checkpoint whose last reported value is best (the candidates to thaw)."""
    from optuna.trial import TrialState

    sign = 1 if study.direction.name == "MINIMIZE" else -1
    cands = [t for t in study.get_trials(states=(TrialState.PRUNED,))
             if t.user_attrs.get("checkpoint") and os.path.exists(t.user_attrs["checkpoint"])
             and t.intermediate_values and not any(u.user_attrs.get("thaw_of") == t.number for u in study.trials)]
    cands.sort(key=lambda t: sign * t.intermediate_values[max(t.intermediate_values)])
    return cands[:k]


def thaw(study, objective, space, trial_number=None, *, pruner="none"):
    """Freeze-thaw (textbook 11.4.5, Swersky 2014): resume a pruned ("frozen") trial from its checkpoint as a new
    trial with the same parameters; the objective sees ``trial.resume_from`` (the checkpoint) and ``trial.thaw_of``.
    trial_number None: the most promising pruned trial. Returns the new FrozenTrial."""
    space = parse_space(space)
    if trial_number is None:
        cands = promising_pruned(study, 1)
        if not cands:
            raise ValueError("thaw: the study has no pruned trial with a checkpoint left to resume")
        frozen = cands[0]
    else:
        frozen = study.trials[trial_number]
        if not frozen.user_attrs.get("checkpoint"):
            raise ValueError(f"thaw: trial {trial_number} has no checkpoint (state {frozen.state.name}); only trials "
                             "pruned by TrialContext.report(..., state=...) keep one")
    ckpt = frozen.user_attrs["checkpoint"]
    study.enqueue_trial(frozen.params, user_attrs={"thaw_of": frozen.number, "resume_from": ckpt})
    old = study.pruner
    study.pruner = make_pruner(pruner)
    try:
        study.optimize(_wrap_objective(objective, space, os.path.dirname(ckpt)), n_trials=1)
    finally:
        study.pruner = old
    return study.trials[-1]
