"""``shendu.utils.data.dataloader`` (torch.utils.data.dataloader): ``shendu.data``'s DataLoader."""
from ...data.loader import DataLoader, default_collate  # noqa: F401
