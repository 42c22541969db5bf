"""The Keras layer machinery (Textbook 6.1's function composition, written as Keras writes it): the symbolic
``KerasTensor``/``Input`` of a functional model, and ``Layer``, the base that builds its weights at the first
call from the input's shape (on real data or on a symbolic ``Input``), with Keras' weight accessors."""
from __future__ import annotations

import re

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import device_of, get_default_device, get_default_dtype, to_device, to_dtype, to_host
from ...nn import init as _init
from ...nn.module import Module
from ...nn.parameter import Parameter

_COUNTS = {}


def _auto_name(cls):
    base = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    n = _COUNTS.get(base, 0)
    _COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class KerasTensor:
    """A symbolic tensor of a functional model: its shape (batch first, None = any size), dtype and the call
    (layer, inputs) that makes it."""

    def __init__(self, shape, dtype=None, layer=None, inputs=(), name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(get_default_dtype() if dtype is None else to_dtype(dtype))
        self.layer, self.inputs, self.name = layer, tuple(inputs), name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={_shape_str(self.shape)}, dtype={self.dtype}, name={self.name}>"


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, **_ignored):
    """A symbolic model input. ``Input(shape=(784,))`` (Keras: one sample's shape) or ``Input([None, 784])``
    (TensorLayer: a leading None is the batch dimension); ``batch_shape=`` gives the full shape."""
    if batch_shape is None:
        if shape is None:
            raise ValueError("Input: give shape=(features, ...) or batch_shape=(batch, features, ...)")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        batch_shape = shape if (len(shape) > 1 and shape[0] is None) else (batch_size,) + shape
    return KerasTensor(batch_shape, dtype, name=name or _auto_name(KerasTensor).replace("keras_tensor", "input"))


def _as_tensor(x, dtype, device):
    """Arrays (NumPy/CuPy) and lists as Tensors on ``device``; float arrays of another float dtype are cast
    (Keras' autocast)."""
    arr = x if hasattr(x, "dtype") and hasattr(x, "shape") else np.asarray(x)
    if arr.dtype.kind == "f" and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return _wrap(to_device(arr, device))


def _home(module):
    """The device of a module's first parameter or buffer, else the default device."""
    for t in module.parameters():
        return device_of(t._data)
    for t in module.buffers():
        return device_of(t._data)
    return get_default_device()


class Layer(Module):
    """Base of the Keras-style layers: ``build(input_shape)`` makes the weights at the first call;
    ``compute_output_shape``; ``get_weights()/set_weights()`` as NumPy arrays; ``trainable_weights``."""

    _moves_inputs = False  # Models move a Tensor input to their device

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        self.name = name or _auto_name(type(self))
        self.built = False
        self._dtype = np.dtype(get_default_dtype() if dtype is None else to_dtype(dtype))
        self._trainable = bool(trainable)
        self._output_shape = None
        if input_dim is not None:
            input_shape = (input_dim,)
        self._input_shape = None if input_shape is None else (None,) + tuple(input_shape)

    # --- building ---------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for an input of ``input_shape`` (batch first)."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _build(self, input_shape, device):
        self._device = device
        self.build(tuple(input_shape))
        self.built = True
        if not self._trainable:
            self.trainable = False
        self._output_shape = self.compute_output_shape(tuple(input_shape))

    def _param(self, shape, init):
        """A Parameter of ``shape``, initialized on the host by ``init`` (name/number/callable), then moved to
        the layer's device."""
        p = Parameter(np.zeros(shape, dtype=self._dtype))
        _init.apply_init(p, init)
        dev = getattr(self, "_device", None)
        if dev is not None and device_of(p._data) != dev:
            p._data = to_device(p._data, dev)
        return p

    def _buffer(self, name, arr):
        dev = getattr(self, "_device", None)
        self.register_buffer(name, _wrap(arr if dev is None else to_device(arr, dev)))

    # --- calling ----------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        training = kwargs.pop("training", None)
        x = args[0] if args else None
        if isinstance(x, KerasTensor) or (isinstance(x, (list, tuple)) and x and isinstance(x[0], KerasTensor)):
            return self._symbolic(x)
        if self._moves_inputs and isinstance(x, (list, tuple)):  # a multi-input model: one array per input
            dev = _home(self)
            return super().__call__([a if isinstance(a, Tensor) and device_of(a._data) == dev else
                                     (a.to(dev) if isinstance(a, Tensor) else _as_tensor(a, self._dtype, dev))
                                     for a in x], *args[1:], **kwargs)
        if x is not None and not isinstance(x, Tensor):
            x = _as_tensor(x, self._dtype, _home(self))
            args = (x,) + args[1:]
        elif self._moves_inputs and x is not None:  # a model takes its input to its device, as Keras does
            dev = _home(self)
            if device_of(x._data) != dev:
                x = x.to(dev)
                args = (x,) + args[1:]
        if not self.built:
            self._build(tuple(x.shape), device_of(x._data))
        if training is None or bool(training) == self.training:
            return super().__call__(*args, **kwargs)
        was = self.training
        self.train(bool(training))  # Keras' call(x, training=...): this call only
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.train(was)

    def _symbolic(self, x):
        shape = x.shape if isinstance(x, KerasTensor) else [t.shape for t in x]
        if not self.built:
            self._build(shape, get_default_device())
        out_shape = self._output_shape = self.compute_output_shape(shape)
        return KerasTensor(out_shape, self._dtype, layer=self, inputs=[x] if isinstance(x, KerasTensor) else x,
                           name=self.name)

    # --- weights ----------------------------------------------------------------------
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, flag):
        self._trainable = bool(flag)
        for p in self.parameters():
            p.requires_grad_(bool(flag))

    @property
    def weights(self):
        """Trainable then non-trainable weights (Keras order)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self):
        return [p for p in self.parameters() if p.requires_grad]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        return [p for p in self.parameters() if not p.requires_grad] + [b for b in self.buffers()
                                                                        if b.dtype.kind == "f"]

    def _weight_arrays(self):
        """(tensor, transpose?) pairs in Keras' get_weights order."""
        return [(w, False) for w in self.weights]

    def get_weights(self):
        """The weights as NumPy arrays (host copies) in Keras' order and layout."""
        return [np.array(to_host(w._data)).T if t else np.array(to_host(w._data)) for w, t in self._weight_arrays()]

    def set_weights(self, weights):
        """Copy NumPy arrays into the weights (same order, shapes and layout as get_weights)."""
        own = self._weight_arrays()
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"{self.name}.set_weights: expected {len(own)} arrays, got {len(weights)}")
        for i, ((w, t), a) in enumerate(zip(own, weights)):
            a = np.asarray(to_host(a._data) if isinstance(a, Tensor) else a)
            a = a.T if t else a
            if tuple(a.shape) != tuple(w.shape):
                got = tuple(w.shape if not t else w.shape[::-1])
                raise ValueError(f"{self.name}.set_weights: weight {i} has shape {got}, "
                                 f"got an array of shape {tuple(a.shape if not t else a.shape[::-1])}")
            w._data[...] = to_device(np.ascontiguousarray(a, dtype=w._data.dtype), device_of(w._data))

    def count_params(self):
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    @property
    def output_shape(self):
        return self._output_shape
