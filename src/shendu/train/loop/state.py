"""The training state of a checkpoint (resume, textbook 7.8 early stopping / 8.1.3): its key and the
checks of its fields, with errors naming the bad field.
"""
from __future__ import annotations

import numbers

TRAINING_STATE = "shendu-training-state"


def _bad(where, key, expected, got, err=None):
    """The CheckpointError for entry `key` of the training state from `where`."""
    from ...serialization import CheckpointError

    why = f" ({err})" if err is not None else ""
    return CheckpointError(f"resume_from: {where}: key {key!r} must be {expected}, got {type(got).__name__} "
                           f"{str(got)[:80]}{why}")


def _count(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0


def _is_dict(v):
    return isinstance(v, dict)


_REQUIRED = (("model", _is_dict, "a dict (the model's state_dict)"), ("epoch", _count, "an int >= 0 (epochs done)"),
             ("global_step", _count, "an int >= 0 (optimizer steps done)"),
             ("history", _is_dict, "a dict (History.state_dict())"),
             ("global_rng", _is_dict, "a dict (a NumPy bit-generator state)"))


def check_training_state(state, where="<dict>"):
    """Raise CheckpointError naming `where` and the key unless `state` has the entries `training_state` writes,
    with the right types; the RNG states are tried on scratch generators."""
    from ...backend.random import get_generator

    for key, ok, expected in _REQUIRED:
        if key not in state:
            from ...serialization import CheckpointError

            raise CheckpointError(f"resume_from: {where}: key {key!r} is missing; expected {expected}")
        if not ok(state[key]):
            raise _bad(where, key, expected, state[key])
    for key in ("optimizer", "scheduler", "callbacks", "rng", "loader_rng"):
        if key in state and not isinstance(state[key], dict):
            raise _bad(where, key, "a dict", state[key])
    hist = state["history"]
    if not (isinstance(hist.get("epoch"), list) and isinstance(hist.get("history"), dict)
            and all(isinstance(v, list) for v in hist["history"].values())):
        raise _bad(where, "history", "a dict {'epoch': [...], 'history': {name: [...]}}", hist)
    if not all(isinstance(v, dict) for v in state.get("callbacks", {}).values()):
        raise _bad(where, "callbacks", "a dict callback name -> state (a dict)", state["callbacks"])
    if "data_rng" in state and not isinstance(state["data_rng"], (list, tuple)):
        raise _bad(where, "data_rng", "a list of generator states", state["data_rng"])
    bitgen = type(get_generator().bit_generator)
    for key in ("global_rng", "loader_rng"):
        if key in state:
            try:
                bitgen().state = state[key]
            except (TypeError, ValueError, KeyError) as e:
                raise _bad(where, key, f"a {bitgen.__name__} state", state[key], e) from None
    if not all(isinstance(k, str) and isinstance(v, dict) for k, v in state.get("rng", {}).items()):
        raise _bad(where, "rng", "a dict device name -> generator state (a dict)", state["rng"])
