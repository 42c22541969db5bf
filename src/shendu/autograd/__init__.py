"""Reverse-mode automatic differentiation (textbook 6.5): Tensor, Function, the engine, gradcheck."""
from .engine import backward, grad  # noqa: F401
from .function import Function  # noqa: F401
from .functional import hessian, hvp, jacobian  # noqa: F401
from .grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad  # noqa: F401
from .tensor import Tensor, as_tensor, is_tensor, tensor  # noqa: F401
from .profiler import profile  # noqa: F401
from .capture import capture  # noqa: F401
from .capture_trace import CaptureError  # noqa: F401
from . import graph  # noqa: F401,E402  (6.39: get_operation / get_inputs / get_consumers)
