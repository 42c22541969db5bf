"""Interoperability (issue 21): DLPack exchange, PyTorch weights; ONNX export is ``sd.onnx``."""
from .dlpack import from_dlpack  # noqa: F401
from .torch_weights import StateDictMismatch, load_torch_state_dict, read_torch_state_dict  # noqa: F401
