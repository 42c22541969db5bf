"""``shendu.nn.modules.loss``: PyTorch's ``torch.nn.modules.loss`` path for the classes of nn.losses."""
from ..losses import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    CTCLoss,  # noqa: F401,E402  (issue 16)
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
)
