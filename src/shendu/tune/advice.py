"""Manual tuning aids (textbook 11.3-11.4.1): the capacity table of Table 11.1 and the "gather more data?"
decision procedure, as data and a function."""
from __future__ import annotations

__all__ = ["CAPACITY_EFFECT", "capacity_effect", "diagnose"]

# Table 11.1: how each hyperparameter moves the model's effective capacity
CAPACITY_EFFECT = {
    "hidden_units": {"increases_capacity_when": "increased", "reason": "more representational capacity",
                     "caveats": "time and memory of almost every operation grow with it"},
    "learning_rate": {"increases_capacity_when": "tuned optimally",
                      "reason": "too high or too low a rate makes optimization fail, lowering effective capacity",
                      "caveats": ""},
    "kernel_width": {"increases_capacity_when": "increased", "reason": "more parameters",
                     "caveats": "a wider kernel gives a narrower output (less capacity) unless implicit zero padding "
                                "compensates; more parameter memory and time, the narrower output saves memory"},
    "zero_padding": {"increases_capacity_when": "increased", "reason": "keeps the representations large",
                     "caveats": "more time and memory for most operations"},
    "weight_decay": {"increases_capacity_when": "decreased", "reason": "the parameters are free to grow",
                     "caveats": ""},
    "dropout_rate": {"increases_capacity_when": "decreased",
                     "reason": "units can 'conspire' more to fit the training set", "caveats": ""},
}

_ALIASES = {"hidden": "hidden_units", "units": "hidden_units", "lr": "learning_rate", "kernel_size": "kernel_width",
            "padding": "zero_padding", "wd": "weight_decay", "dropout": "dropout_rate", "p": "dropout_rate"}


def capacity_effect(name):
    """Table 11.1's row for a hyperparameter (names or aliases: hidden, lr, kernel_size, padding, wd, dropout)."""
    key = _ALIASES.get(name, name)
    if key not in CAPACITY_EFFECT:
        raise KeyError(f"capacity_effect: no entry for {name!r}; known: {', '.join(CAPACITY_EFFECT)}")
    return CAPACITY_EFFECT[key]


def diagnose(train_error, test_error, target, *, gap_tolerance=None):
    """The chapter's decision procedure (textbook 11.3): what to do next from the training and test errors and
    the target error. Returns (verdict, advice): 'underfit' (training error above target: more capacity, tune the
    learning rate; if a large tuned model still fails, suspect the data), 'overfit' (test error above target with a
    gap: gather more data, or regularize more (weight decay, dropout) when data are expensive; use a learning curve
    to estimate how much), or 'done'."""
    for n, v in (("train_error", train_error), ("test_error", test_error), ("target", target)):
        if not (isinstance(v, (int, float)) and v >= 0):
            raise ValueError(f"diagnose: {n} must be a number >= 0, got {v!r}")
    if train_error > target:
        return "underfit", ("training error is above the target, so more data will not help: increase the model "
                            "size (layers, hidden units) and tune the optimizer, first the learning rate; if a "
                            "large, well-tuned model still fails, the data may be too noisy or lack the needed "
                            "inputs")
    if test_error > target and test_error - train_error > (gap_tolerance or 0.0):
        return "overfit", ("training error meets the target but test error does not: gather more data (plot a "
                           "learning curve with the training-set size doubling to see how much), or reduce the "
                           "model size / increase regularization (weight decay, dropout) if data are expensive")
    return "done", "both errors meet the target"
