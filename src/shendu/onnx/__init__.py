"""``sd.onnx`` (torch.onnx): export a model to an ONNX file that onnxruntime (or any ONNX runtime) can run.

``sd.onnx.export(model, example_input, "model.onnx")`` walks the module tree (not a trace): each supported
layer becomes ONNX nodes with its weights as initializers (host float arrays; a model on a GPU is read
back to the host). Supported: Sequential, Linear/Dense, Conv1d/2d/3d, max/avg/global/adaptive pooling,
BatchNorm (eval statistics), Dropout (identity in eval), the common activations, Flatten/Unflatten/Reshape,
Softmax/LogSoftmax/Softmin, Embedding, RNN/LSTM/GRU (ONNX's RNN/LSTM/GRU ops, gates reordered from
PyTorch's (i, f, g, o) / (r, z, n) to ONNX's (i, o, f, c) / (z, r, h)), and the model zoo (LeNet5,
CifarCNN, VGG, ResNet/BasicBlock). Other modules: ``register_converter(cls)`` (see ``_Graph``).
Requires the ``onnx`` package (``pip install 'shendu[onnx]'``).

Modules: graph (registry, ExportError, the graph builder), convert_layers / convert_activations / convert_rnn /
convert_models (the converters by family), exporter (the driver).
"""
from .graph import ExportError, is_in_onnx_export, register_converter  # noqa: F401
from .exporter import export  # noqa: F401

__all__ = ["export", "is_in_onnx_export", "register_converter", "ExportError"]
