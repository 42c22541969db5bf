"""``shendu.utils.data.dataset`` (torch.utils.data.dataset): the data set classes of ``shendu.data``."""
from ...data.dataset import Dataset, Subset, TensorDataset  # noqa: F401
from ...data.split import random_split  # noqa: F401
