"""Keras-style models: functional ``Model(inputs, outputs)`` (text 003's static model), ``Sequential([...])``
(text 004's MNIST MLP) and subclassed models (``call`` or ``forward``), with ``summary()``,
``get_weights()/set_weights()``, ``trainable_weights`` and Keras' ``compile/fit/evaluate/predict``.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_default_device
from ..train.keras import TrainingMixin
from ..train.loop import Trainer
from . import optimizers as _optimizers
from .layers import KerasTensor, Layer, _shape_str

__all__ = ["Model", "Sequential"]


def _topological(outputs):
    """The layer calls (KerasTensors with a layer) needed for ``outputs``, inputs first."""
    order, seen = [], set()

    def visit(t):
        if id(t) in seen:
            return
        seen.add(id(t))
        for i in t.inputs:
            visit(i)
        if t.layer is not None:
            order.append(t)

    for o in outputs:
        visit(o)
    return order


class Model(Layer):
    """``Model(inputs, outputs)`` runs the graph of layer calls from Input(s) to output(s); ``Model()`` as a base
    class runs the subclass's ``call(x)`` (Keras) or ``forward(x)`` (TensorLayer, PyTorch). A Tensor input on
    another device is moved to the model's device, as Keras places inputs."""

    _moves_inputs = True

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._graph = None
        self._layer_list = []
        if inputs is None and outputs is None:
            self.built = True  # subclassed: its layers build themselves
            return
        if inputs is None or outputs is None:
            raise ValueError("Model: give both inputs and outputs (or neither, for a subclassed model)")
        self._single_in = isinstance(inputs, KerasTensor)
        self._single_out = isinstance(outputs, KerasTensor)
        ins = [inputs] if self._single_in else list(inputs)
        outs = [outputs] if self._single_out else list(outputs)
        for t in ins + outs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: inputs and outputs must come from Input(...) and layer calls, got "
                                f"{type(t).__name__}")
        nodes = _topological(outs)
        reach = {id(t) for t in ins}
        for n in nodes:
            for i in n.inputs:
                if i.layer is None and id(i) not in reach:
                    raise ValueError(f"Model: output depends on an Input {i.name!r} that is not in inputs")
        self._graph = (ins, nodes, outs)
        for n in nodes:
            self._track(n.layer)
        self.built = True
        self._output_shape = outs[0].shape if self._single_out else [o.shape for o in outs]

    def _track(self, layer):
        if any(layer is l for l in self._layer_list):
            return
        if layer.name in self._modules:
            raise ValueError(f"{self.name}: all layer names must be unique, {layer.name!r} is used twice")
        self.add_module(layer.name, layer)
        self._layer_list.append(layer)

    @property
    def layers(self):
        return list(self._layer_list) if self._layer_list else [m for m in self.children()]

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for l in self.layers:
            if l.name == name:
                return l
        raise ValueError(f"{self.name}.get_layer: no layer named {name!r}; layers: {[l.name for l in self.layers]}")

    # --- calling ----------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        if self._graph is None:
            call = getattr(self, "call", None)
            if call is None:
                raise NotImplementedError(f"{type(self).__name__}: define call(self, inputs) or forward(self, x)")
            return call(*args, **kwargs)
        ins, nodes, outs = self._graph
        if len(args) == 1 and not self._single_in and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        if len(args) != len(ins):
            raise ValueError(f"{self.name}: expected {len(ins)} input(s), got {len(args)}")
        vals = {id(t): a for t, a in zip(ins, args)}
        for n in nodes:
            a = [vals[id(i)] for i in n.inputs]
            vals[id(n)] = n.layer(a[0] if len(a) == 1 else a)
        res = [vals[id(o)] for o in outs]
        return res[0] if self._single_out else res

    def compute_output_shape(self, input_shape):
        return self._output_shape

    # --- weights and summary (trainable_weights/variables: inherited from Layer) ---------------
    @property
    def weights(self):
        if self._layer_list:
            return [w for l in self._layer_list for w in (l.weights if isinstance(l, Layer) else l.parameters())]
        return super().weights

    def _weight_arrays(self):
        if self._layer_list:
            return [wt for l in self._layer_list
                    for wt in (l._weight_arrays() if isinstance(l, Layer) else [(p, False) for p in l.parameters()])]
        return super()._weight_arrays()

    def summary(self, print_fn=print, line_length=65):
        """Print Keras' table and return None (the table is returned when print_fn is None or another callable):
        each layer's name (type), output shape and number of weights, then total, trainable and non-trainable
        counts (BatchNormalization's moving statistics are non-trainable)."""
        if not self.built or (self._graph is None and isinstance(self, Sequential) and not self._all_built()):
            raise ValueError(f"{self.name}: this model has not yet been built; give an input shape "
                             "(Input(...), input_dim=, input_shape=) or call it on data first")
        w0 = max([29] + [len(f"{l.name} ({type(l).__name__})") + 2 for l in self.layers])
        cols = (w0, 26, line_length - 55)
        line_length += w0 - 29
        row = lambda a, b, c: f" {a:<{cols[0] - 1}}{b:<{cols[1]}}{c}"  # noqa: E731
        lines = [f'Model: "{self.name}"', "_" * line_length, row("Layer (type)", "Output Shape", "Param #"),
                 "=" * line_length]
        for l in self.layers:
            shape = getattr(l, "output_shape", None)
            shape = "?" if shape is None else _shape_str(shape) if isinstance(shape, tuple) else str(shape)
            n = l.count_params() if isinstance(l, Layer) else sum(p.numel() for p in l.parameters())
            lines.append(row(f"{l.name} ({type(l).__name__})", shape, f"{n}"))
        ws = self.weights
        total = sum(int(np.prod(w.shape)) for w in ws)
        train = sum(int(np.prod(w.shape)) for w in self.trainable_weights)
        lines += ["=" * line_length, f"Total params: {total:,}", f"Trainable params: {train:,}",
                  f"Non-trainable params: {total - train:,}", "_" * line_length]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return None if print_fn is print else text  # as Keras: print and return None (no second copy in a REPL)

    # --- Keras training API -----------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, *, lr=None, clip_grad_norm=None, **_ignored):
        """Keras' compile: an optimizer name gets Keras' defaults ('adam': lr 1e-3, epsilon 1e-7); Keras loss
        names take probabilities (see shendu.keras.losses). The optimizer is bound when the model is built."""
        if loss is None:
            raise ValueError(f"{self.name}.compile: give a loss (a name such as 'categorical_crossentropy' or a "
                             "callable)")
        if isinstance(optimizer, str):
            optimizer = _optimizers.get(optimizer) or optimizer
        self._compile_args = dict(optimizer=optimizer, loss=loss, metrics=list(metrics or ()), lr=lr,
                                  clip_grad_norm=clip_grad_norm)
        self.__dict__.pop("_trainer", None)
        if self.built and (self._graph is not None or not isinstance(self, Sequential) or self._all_built()):
            self._make_trainer()
        return self

    def _make_trainer(self):
        a = self._compile_args
        t = Trainer(self, loss=a["loss"], optimizer=a["optimizer"], metrics=a["metrics"], lr=a["lr"],
                    clip_grad_norm=a["clip_grad_norm"], verbose=1)
        object.__setattr__(self, "_trainer", t)

    def _ready(self, x, who):
        if "_compile_args" not in self.__dict__:
            raise RuntimeError(f"{self.name}.{who}: call model.compile(optimizer=..., loss=...) first")
        if isinstance(self, Sequential) and not self._all_built():
            self._build_from(tuple(x.shape))  # builds the layers from the data's shape
        if "_trainer" not in self.__dict__:
            self._make_trainer()

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, **kwargs):
        """Keras' fit (batch_size 32 by default); float64 inputs are cast to float32 as Keras does."""
        self._ready(x, "fit")
        if validation_data is not None:
            validation_data = tuple(_cast(v) for v in validation_data)
        return TrainingMixin.fit(self, _cast(x), y, epochs=epochs, batch_size=batch_size or 32,
                                 validation_data=validation_data, validation_split=validation_split,
                                 callbacks=callbacks or (), verbose=1 if verbose == "auto" else int(verbose),
                                 shuffle=shuffle, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False, **_ignored):
        """[loss, metric...] as Keras (the loss alone without metrics; a dict with return_dict=True)."""
        self._ready(x, "evaluate")
        logs = TrainingMixin.evaluate(self, _cast(x), y, batch_size=batch_size or 32,
                                      verbose=1 if verbose == "auto" else int(verbose))
        if return_dict:
            return logs
        vals = list(logs.values())
        return vals[0] if len(vals) == 1 else vals

    def predict(self, x, batch_size=None, verbose="auto", **_ignored):
        """Outputs as a NumPy array."""
        if isinstance(self, Sequential) and not self._all_built():
            self._build_from(tuple(x.shape))
        return TrainingMixin.predict(self, _cast(x), batch_size=batch_size or 32)


def _cast(x):
    """float64 NumPy arrays as float32 (Keras casts inputs to the model's float32)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x.astype(np.float32)
    return x


class Sequential(Model):
    """A stack of layers: ``Sequential([Dense(100, input_dim=784), Activation('relu'), Dense(10)])`` or
    ``add()``; built from the first layer's input_dim/input_shape, a leading ``Input(...)``, or the first call."""

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.built = False
        self._shape = None
        for l in layers or ():
            self.add(l)

    def add(self, layer):
        if isinstance(layer, KerasTensor):
            if self._layer_list:
                raise ValueError(f"{self.name}.add: an Input can only come first")
            self._shape = layer.shape
            return
        if not callable(layer):
            raise TypeError(f"{self.name}.add: expected a layer, got {type(layer).__name__}")
        if isinstance(layer, Layer):
            self._track(layer)
        else:  # a plain shendu Module
            name = f"{type(layer).__name__.lower()}_{len(self._layer_list)}"
            self.add_module(name, layer)
            self._layer_list.append(layer)
        if self._shape is None and isinstance(layer, Layer) and layer._input_shape is not None:
            self._shape = layer._input_shape
        if self._shape is not None:
            self._build_from(self._shape)

    def _all_built(self):
        return all(getattr(l, "built", True) for l in self._layer_list) and bool(self._layer_list)

    def _build(self, input_shape, device):
        self._device = device
        self._build_from(input_shape, device)

    def _build_from(self, shape, device=None):
        shape = (None,) + tuple(shape[1:])
        dev = get_default_device() if device is None else device
        for l in self._layer_list:
            if not isinstance(l, Layer):
                break  # a plain Module: the layers after it build at the first call
            if not l.built:
                l._build(shape, dev)
            shape = l.compute_output_shape(shape)
            l._output_shape = shape
        self._output_shape = shape
        self.built = self._all_built()

    def build(self, input_shape=None):
        self._build_from(input_shape if input_shape is not None else self._shape)

    def forward(self, x, **kwargs):
        for l in self._layer_list:
            x = l(x)
        return x


    @property
    def layers(self):
        return list(self._layer_list)
