"""Low-precision inference (textbook 12.1.6): dynamic fixed point with a shared exponent per group, int8
per-channel weight quantisation, and ``quantize_dynamic`` for Linear/Conv/RNN layers."""
from .dynamic import DEFAULT_TYPES, model_nbytes, quantize_dynamic, quantize_module_  # noqa: F401
from .fixed_point import (  # noqa: F401
    dequantize, dfp_fraction_bits, dynamic_fixed_point_, fake_quantize_dfp, quantize_dfp, quantize_per_channel,
)

__all__ = ["DEFAULT_TYPES", "dequantize", "dfp_fraction_bits", "dynamic_fixed_point_", "fake_quantize_dfp",
           "model_nbytes", "quantize_dfp", "quantize_dynamic", "quantize_module_", "quantize_per_channel"]
