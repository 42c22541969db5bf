"""Interoperability (issue 21): DLPack exchange (``from_dlpack``) and PyTorch weights
(``load_torch_state_dict``); ONNX export is ``sd.onnx``, the autograd graph picture ``sd.viz``."""
from .dlpack import from_dlpack
from .torch_weights import StateDictMismatch, load_torch_state_dict, read_torch_state_dict

__all__ = ["from_dlpack", "load_torch_state_dict", "read_torch_state_dict", "StateDictMismatch"]
