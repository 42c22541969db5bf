"""One trial of a search: `TrialContext` (the sampled parameters, ``report`` for pruning, a checkpoint folder
for freeze-thaw) and the wrapping of the user's objective.
"""
from __future__ import annotations

import inspect
import math
import os

from .study import _pruned_exc


class TrialContext:
    """What an objective gets as its second argument: the trial number, its parameters, ``report`` for pruning,
    and the freeze-thaw checkpoint: ``checkpoint_path`` (where a pruned trial's state is kept) and ``resume_from``
    (the checkpoint of the frozen trial this one thaws, or None)."""

    def __init__(self, trial, params, checkpoint_dir):
        self.trial = trial
        self.number = trial.number
        self.params = params
        self.checkpoint_dir = checkpoint_dir
        self.resume_from = trial.user_attrs.get("resume_from")
        self.thaw_of = trial.user_attrs.get("thaw_of")
        self._state = None

    @property
    def checkpoint_path(self):
        if self.checkpoint_dir is None:
            return None
        return os.path.join(self.checkpoint_dir, f"trial_{self.number}.safetensors")

    def report(self, value, step, state=None):
        """Report an intermediate objective value (e.g. the validation loss after epoch ``step``). A NaN or
        infinite value (a diverging trial) or the pruner's verdict stops the trial: its ``state`` (a dict, or a
        callable returning one, e.g. ``trainer.training_state``) is saved to ``checkpoint_path`` first, so
        ``thaw`` can resume it later."""
        value = float(value)
        diverged = not math.isfinite(value)
        self.trial.report(value if not diverged else float("inf"), int(step))
        if diverged or self.trial.should_prune():
            self.trial.set_user_attr("pruned_at", int(step))
            if diverged:
                self.trial.set_user_attr("diverged", True)
            if state is not None and self.checkpoint_path is not None and not diverged:
                from ...serialization import save

                os.makedirs(self.checkpoint_dir, exist_ok=True)
                save(state() if callable(state) else state, self.checkpoint_path)
                self.trial.set_user_attr("checkpoint", self.checkpoint_path)
            raise _pruned_exc()(f"trial {self.number} pruned at step {step} (value {value:.4g})")

    def set(self, key, value):
        """Store a JSON-able value with the trial (shown in the CSV)."""
        self.trial.set_user_attr(key, value)


def _takes_trial(objective):
    try:
        sig = inspect.signature(objective)
    except (TypeError, ValueError):
        return True
    ps = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(ps) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())


def _wrap_objective(objective, space, checkpoint_dir):
    two = _takes_trial(objective)

    def f(trial):
        params = {n: p.suggest(trial) for n, p in space.items()}
        ctx = TrialContext(trial, params, checkpoint_dir)
        return objective(params, ctx) if two else objective(params)

    return f
