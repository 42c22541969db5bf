"""shendu.optim: optimizers (Textbook chapter 8), learning-rate schedules, gradient clipping, averaging.

Gradient clipping (`clip_grad_norm_`, `clip_grad_value_`) lives here in `shendu.optim` (not `nn.utils`).
"""
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .adagrad import AdaGrad, Adagrad  # noqa: F401
from .rmsprop import RMSProp, RMSprop  # noqa: F401
from . import lr_scheduler  # noqa: F401
from .clip import clip_grad_norm_, clip_grad_value_  # noqa: F401
from . import swa_utils  # noqa: F401
from .swa_utils import EMA, AveragedModel  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .bfgs import BFGS  # noqa: F401
from .cg import NonlinearCG, conjugate_gradient  # noqa: F401
from .newton import Newton  # noqa: F401
from .coordinate import BlockCoordinateDescent, CoordinateDescent  # noqa: F401
from . import line_search  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .nadam import Adamax, NAdam  # noqa: F401
from .groups import param_groups  # noqa: F401
from .optimizer import RemovableHandle  # noqa: F401
from .saddle_free import SaddleFreeNewton  # noqa: F401
from .delta_bar_delta import DeltaBarDelta  # noqa: F401
from .scg import ScaledConjugateGradient  # noqa: F401
from .fan_in import fan_in_param_groups  # noqa: F401
from .sparse_coding import sparse_coding, sparse_coding_objective  # noqa: F401
from . import landscape  # noqa: F401
