"""``shendu.nn.utils`` (torch.nn.utils): gradient clipping, parameters <-> one flat vector, and ``rnn`` padding."""
from __future__ import annotations

from . import prune, rnn  # noqa: F401


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients so their joint ``norm_type`` norm is at most ``max_norm``.

    Returns the norm before clipping."""
    from ...optim.clip import clip_grad_norm_ as f  # optim sits above nn: import on use

    return f(parameters, max_norm, norm_type=norm_type, error_if_nonfinite=error_if_nonfinite)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    from ...optim.clip import clip_grad_value_ as f

    return f(parameters, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from ...ops import cat

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D tensor ``vec`` into ``parameters`` (inverse of parameters_to_vector)."""
    from ...autograd import no_grad

    if vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D vector, got shape {tuple(vec.shape)}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: vector has {vec.shape[0]} elements, parameters need {total}")
    pos = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.data = vec[pos:pos + n].reshape(p.shape).detach().clone()
            pos += n


__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "prune", "rnn", "vector_to_parameters"]
