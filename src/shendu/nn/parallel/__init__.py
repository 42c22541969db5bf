"""``shendu.nn.parallel``: torch.nn.parallel's ``DistributedDataParallel`` (defined in ``shendu.distributed.ddp``,
imported on first use so that ``nn`` does not import the higher-level ``distributed`` package)."""


def __getattr__(name):
    if name == "DistributedDataParallel":
        from ...distributed.ddp import DistributedDataParallel

        return DistributedDataParallel
    raise AttributeError(f"module 'shendu.nn.parallel' has no attribute {name!r}")


__all__ = ["DistributedDataParallel"]
