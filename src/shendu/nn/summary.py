"""``summary(model, input_shape)``: a Keras-style table of each layer's output shape and parameter count."""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, _wrap
from ..backend import device_of, get_default_device, get_default_dtype, to_device, to_dtype


def _shape_of(out):
    if isinstance(out, Tensor):
        return (
            "(-1, " + ", ".join(str(d) for d in out.shape[1:]) + ")"
            if out.ndim > 1
            else f"({out.shape[0]},)"
            if out.ndim
            else "()"
        )
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_of(o) for o in out) + "]"
    return type(out).__name__


def summary(model, input_shape=None, input_data=None, batch_size: int = 2, dtype=None, print_fn=print):
    """Run ``model`` once (eval mode, no grad) on zeros of shape (batch_size, *input_shape) on the model's
    device (or on ``input_data``) and print each layer's type, output shape (batch shown as -1) and parameter count,
    then the totals. ``input_shape`` is one sample's shape, or a list of shapes for several inputs.
    With the default ``print_fn=print`` it prints and returns None, as Keras' ``model.summary()`` (so a REPL does not
    show the table twice); ``print_fn=None`` prints nothing and returns the table as a string; any other callable
    gets the table and it is returned as well."""
    if input_data is None:
        if input_shape is None:
            raise ValueError("summary: give input_shape (one sample's shape) or input_data")
        shapes = (
            input_shape
            if (isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (tuple, list)))
            else [input_shape]
        )
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        first = next(model.parameters(), None)
        if first is None:
            first = next(model.buffers(), None)
        dev = get_default_device() if first is None else device_of(first._data)  # the model's device
        inputs = [_wrap(to_device(np.zeros((batch_size,) + tuple(s), dtype=dt), dev)) for s in shapes]
    else:
        inputs = list(input_data) if isinstance(input_data, (tuple, list)) else [input_data]
    rows, handles = [], []
    for name, m in model.named_modules():
        if m is model:
            continue
        own = sum(p.numel() for p in m.parameters(recurse=False))
        if next(m.children(), None) is not None and own == 0:
            continue  # containers without their own weights: their children are listed

        def hook(mod, args, out, name=name, own=own):
            rows.append((f"{name} ({type(mod).__name__})", _shape_of(out), own))

        handles.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if not rows:
        rows.append((f"({type(model).__name__})", _shape_of(out), sum(p.numel() for p in model.parameters())))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    headers = ("Layer (type)", "Output Shape", "Param #")
    cells = [(a, b, f"{c:,}") for a, b, c in rows]
    w = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w[i]) for i, h in enumerate(headers))
    out_lines = [line, "=" * len(line)]
    out_lines += ["  ".join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(r)) for r in cells]
    out_lines += ["=" * len(line), f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}"]
    text = "\n".join(out_lines)
    if print_fn is not None:
        print_fn(text)
    return None if print_fn is print else text
