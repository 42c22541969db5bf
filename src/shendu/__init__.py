"""shendu: a deep-learning framework that implements the textbook end to end.

    import shendu as sd
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()   # x.grad == [2, 4]
"""
import numpy as _np

from . import ops  # noqa: F401  (installs Tensor operators)
from .autograd import (  # noqa: F401
    Function, Tensor, as_tensor, detect_anomaly, enable_grad, grad, is_grad_enabled, is_tensor, no_grad,
    set_grad_enabled, tensor,
)
from .backend import (  # noqa: F401
    default_dtype, device, get_default_device, get_default_dtype, manual_seed, set_default_device, set_default_dtype,
)
from .ops import *  # noqa: F401,F403
from .ops import max, min, abs, pow, round, sum  # noqa: F401,A004  (shadow builtins on purpose, like torch)
from . import autograd, cuda, data, metrics, nn  # noqa: F401

__version__ = "0.1.0"

float32 = _np.dtype(_np.float32)
float64 = _np.dtype(_np.float64)
float16 = _np.dtype(_np.float16)
int64 = _np.dtype(_np.int64)
int32 = _np.dtype(_np.int32)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
bool_ = _np.dtype(_np.bool_)
float = float32  # noqa: A001  (torch.float)
double = float64
long = int64
half = float16
from .backend.lowp import bfloat16  # noqa: E402,F401  (ml_dtypes bfloat16 on the CPU, textbook 12.1.6)
int16 = _np.dtype(_np.int16)
bool = bool_  # noqa: A001  (torch.bool)

from . import serialization, train  # noqa: E402,F401  (train installs model.compile/fit on nn.Module)
from .serialization import load, save  # noqa: E402,F401
from .serialization import CheckpointError  # noqa: E402,F401
from . import optim  # noqa: E402,F401
from . import models  # noqa: E402,F401
from . import accelerator, onnx, utils  # noqa: E402,F401  (issue 12: torch.accelerator / torch.onnx / torch.utils layout)
from .utils import Generator  # noqa: E402,F401
from .utils._generator import seed  # noqa: E402,F401
from .nn.functional import cdist, cosine_similarity, dropout, erf, pairwise_distance  # noqa: E402,F401  (torch.* names)
from . import keras, losses  # noqa: E402,F401
from .keras import GradientTape  # noqa: E402,F401
from .keras import optimizers  # noqa: E402,F401  (tf.optimizers.Adam(learning_rate=...), text 003)
from . import linalg  # noqa: E402,F401  (sd.linalg: torch.linalg names, issue 14)
from . import amp, compress, quantize  # noqa: E402,F401  (issue 18: sd.amp, sd.compress, sd.quantize)
from .amp import autocast  # noqa: E402,F401  (torch.autocast)
from . import interop, viz  # noqa: E402,F401  (issue 21: DLPack, PyTorch weights, the graph picture)
from .interop import from_dlpack  # noqa: E402,F401  (torch.from_dlpack)
from . import text  # noqa: E402,F401  (issue 16: tokenizers, n-gram and neural LMs, textbook 12.4)
from .compiler import compile  # noqa: E402,F401,A004  (torch.compile, on autograd.capture)
