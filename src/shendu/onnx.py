"""``sd.onnx`` (torch.onnx): importable so PyTorch programs load; export is not implemented yet."""
from __future__ import annotations


def export(model, args=None, f=None, *pargs, **kwargs):
    """Not implemented: ONNX interop is a later issue (the interop issue); save ``model.state_dict()`` with ``sd.save``."""
    raise NotImplementedError(
        "shendu.onnx.export: ONNX export is not implemented yet (interop is a later issue); "
        "save the weights with sd.save(model.state_dict(), path) instead"
    )


def is_in_onnx_export() -> bool:
    """False: shendu never runs inside an ONNX export."""
    return False
