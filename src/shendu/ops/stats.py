"""Moment pairs under torch's names: std_mean and var_mean, one call for both statistics (the lower
median, an order statistic, is in ``search``)."""
from __future__ import annotations

from .reduce import mean, std, var


def std_mean(x, dim=None, keepdim=False, *, correction=1):
    """(std, mean) over ``dim``."""
    return std(x, dim, keepdim, correction=correction), mean(x, dim, keepdim)


def var_mean(x, dim=None, keepdim=False, *, correction=1):
    """(var, mean) over ``dim``."""
    return var(x, dim, keepdim, correction=correction), mean(x, dim, keepdim)
