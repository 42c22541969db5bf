"""Convolution kernels (textbook 9.8, efficient convolution: im2col + GEMM, col2im), split by layout and run
by a named plan. ``plan`` picks the kernels of a convolution from its shapes and ``conv_settings``;
``conv_forward``, ``conv_input_grad``, ``conv_weight_grad`` and ``conv_backward`` run them.

Files: plan.py (the planner), dispatch.py (plan name -> kernel tables), nchw.py ("nchw-gemm", "item-gemm"),
nhwc.py ("nhwc-gemm", "nhwc-items", "rot180-fused"), wide.py ("wide-stride1", "wide-col2im"), half.py
("half-col2im"), col2im.py ("gemm-col2im"), geometry.py (output sizes, window views, chunking); scratch memory:
shendu.ops._workspace; thresholds: shendu.ops._tuning and the module constants of nhwc.py and half.py. Every
kernel computes with the namespace of its input arrays (NumPy, CuPy) and is tested against
shendu.reference.conv, the textbook-literal slice loop + one GEMM.
"""
from .dispatch import FORWARD, INPUT_GRAD, WEIGHT_GRAD, conv_backward, conv_forward, conv_input_grad, conv_weight_grad
from .geometry import chunk_size, out_shape, out_size, window_view
from .plan import ConvPlan, plan

__all__ = [
    "ConvPlan", "plan", "conv_forward", "conv_input_grad", "conv_weight_grad", "conv_backward", "out_size",
    "out_shape", "window_view", "chunk_size", "FORWARD", "INPUT_GRAD", "WEIGHT_GRAD",
]
