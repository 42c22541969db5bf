"""The recorded program of ``autograd.capture`` and its replay (textbook 6.5.1 and 6.5.6, Algorithm 6.6).

``_Plan`` is built from two agreeing recorded calls (``capture_trace.match``): one plan tensor per slot (an argument,
an op's output; parameters are the tensors themselves), copies of the recorded ops wired to them, the forward
steps, and the bprop steps in reverse order with a fixed grad table. ``_Replayed`` is one replayed call as a single
graph node: its forward runs the forward steps, its bprop the bprop steps.
"""
from __future__ import annotations

import copy
import threading

import numpy as np

from ..backend.device import use_device
from . import backprop_steps as steps
from .capture_trace import match, module_state
from .function import Function
from .grad_mode import set_mode
from .tensor import Tensor, _wrap

_ndarray = np.ndarray


class _Plan:
    """The recorded program of one signature: plan tensors (one per slot), the forward steps, the bprop steps."""

    def __init__(self, fn, first, second, args, result):
        (t1, outs1), (t2, outs2) = first, second
        kinds = match(t1, t2, outs1, outs2)
        self.fn = fn
        self.lock = threading.Lock()
        self.owner = None  # the _Replayed node whose values the ops hold now
        self.checked = False  # the first backward checks every gradient's shape
        slot = {}
        self.arg_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.args = [slot.setdefault(("in", i), _wrap(args[i]._data)) for i in self.arg_pos]
        for n, v in enumerate(t2.values):
            slot[("v", n)] = _wrap(v._data)
        self.params = []  # (tensor, shape, dtype, requires_grad): checked at every call
        for m, (x, kind) in enumerate(zip(t2.externals, kinds)):
            slot[("ext", m)] = x
            if kind == "param":
                self.params.append((x, x._data.shape, x._data.dtype, x._requires_grad))
        self.grad_params = [x for x, _, _, rg in self.params if rg]
        # what the recorded program assumes about the world outside its arguments (checked at every call)
        self.modules = [(m, module_state(m)) for m, _ in t2.modules.values()]
        self.outer = _outer_objects(fn)
        # an argument that is also a parameter or buffer of a module the call ran, or a tensor of fn's closure or
        # globals (``f(lin.weight, x)``): the program reads it through both roles, so a call must pass it again
        owned = set(self.outer)
        for m, _ in self.modules:
            owned.update(id(t) for t in m._parameters.values())
            owned.update(id(t) for t in m._buffers.values())
        self.pinned = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor) and id(a) in owned]
        self.fsteps, graph_ops, valued = [], [], {}
        for st in t2.steps:
            if st[0] == "alias":
                self.fsteps.append((3, None, None, slot[st[1]], slot[st[2]]))
                continue
            if st[0] == "check":  # an input check of library code, run on this call's array
                self.fsteps.append((4, st[3], st[2], slot[st[1]], None))
                continue
            _, fn2, _, ins, outs, multi, binds = st
            op = copy.copy(fn2)
            op.inputs = tuple([slot[k] for k in ins])
            op.saved = op._versions = op._out_hooks = None
            out = tuple([slot[k] for k in outs]) if multi else slot[outs[0]]
            general = multi or binds or op.device_index or len(ins) > 2
            kind = 0 if general else len(ins)
            extra = (tuple([(name, pos, slot[k], shape) for name, pos, k, shape in binds]), multi) if general else None
            self.fsteps.append((kind, type(op).forward, op, op.inputs if general or kind != 1 else op.inputs[0],
                                (out, extra) if general else out))
            if fn2.needs_input_grad is not None and True in fn2.needs_input_grad:
                graph_ops.append((op, out if multi else (out,)))
                if type(op).needs_input_values:
                    valued.update({id(x): x for x in op.inputs})
        # the parameters whose values backward reads but which need no gradient: node inputs too, so that an
        # in-place change between forward and backward is refused as eagerly (the engine's version check)
        grad_ids = {id(x) for x in self.grad_params}
        self.value_params = [x for x, _, _, _ in self.params if id(x) in valued and id(x) not in grad_ids]
        self.outs = [slot[k] for k in outs2]
        self.multi_out = isinstance(result, (tuple, list))
        self.out_type = type(result) if self.multi_out else None
        self.diff_out = [t2.values[k[1]]._requires_grad for k in outs2]
        rg = self.grad_params or any(args[i]._requires_grad for i in self.arg_pos)
        self.node = any(self.diff_out) and bool(rg)  # a call returns outputs of one graph node
        self._build_backward(graph_ops)

    def _build_backward(self, graph_ops):
        """The bprop steps in reverse order: (op, its fast bprop or None, its output slots, its input targets)."""
        number = {}
        for t in self.args + self.grad_params:
            number.setdefault(id(t), len(number))
        for _, outs in graph_ops:
            for t in outs:
                number.setdefault(id(t), len(number))
        self.nslots = len(number)
        self.bsteps = []
        for op, outs in reversed(graph_ops):
            targets = tuple([(i, number[id(x)], x._data.dtype, x)
                             for i, (x, need) in enumerate(zip(op.inputs, op.needs_input_grad))
                             if need and id(x) in number])
            fast = type(op).backward_array
            if fast is None or len(outs) > 1 or op.device_index:
                fast = None
            self.bsteps.append((op, fast, tuple([number[id(t)] for t in outs]), targets))
        self.out_slots = [number.get(id(t)) for t in self.outs]
        self.in_slots = [number[id(t)] for t in self.args] + [number[id(t)] for t in self.grad_params]

    # --- a call -------------------------------------------------------------------------------------------------
    def unchanged(self, args) -> bool:
        """The world the program was recorded in: the same parameters (shape, dtype, requires_grad), the same
        tensors as arguments where both traced calls passed the same one, the same modules' mode, parameters,
        buffers and hooks, the same tensors and modules in ``fn``'s closure and globals."""
        for x, shape, dtype, rg in self.params:
            d = x._data
            if d.shape != shape or d.dtype != dtype or x._requires_grad != rg:
                return False
        for i, a in self.pinned:
            if args[i] is not a:
                return False
        for m, state in self.modules:
            if module_state(m) != state:
                return False
        return not self.outer or _outer_objects(self.fn) == self.outer

    def call(self, args):
        tensors = [args[i] for i in self.arg_pos]
        if self.node:
            node = _Replayed()
            node.plan, node.call_args = self, args
            prev = set_mode(True)  # the traced outputs required grad (grad mode is part of the signature)
            try:
                res = node(*tensors, *self.grad_params, *self.value_params)
            finally:
                set_mode(prev)
            outs = list(res) if type(res) is tuple else [res]
            outs = [o if d else _wrap(o._data) for o, d in zip(outs, self.diff_out)]
        else:
            with self.lock:
                self.owner = None
                outs = [_wrap(a) for a in self.forward([t._data for t in tensors])]
        if not self.multi_out:
            return outs[0]
        return self.out_type(*outs) if hasattr(self.out_type, "_fields") else self.out_type(outs)

    def forward(self, arrays):
        """The recorded forwards on ``arrays`` (the tensor arguments' data, then the parameters'); the outputs."""
        for t, a in zip(self.args, arrays):
            t._data = a
        for kind, fwd, op, ins, out in self.fsteps:
            if kind == 2:
                y = fwd(op, ins[0]._data, ins[1]._data)
            elif kind == 1:
                y = fwd(op, ins._data)
            elif kind == 3:  # detach: the same array
                out._data = ins._data
                continue
            elif kind == 4:  # an input check (fwd: the check, op: the reshape or None)
                fwd(ins._data if op is None else ins._data.reshape(op))
                continue
            else:
                _general_forward(fwd, op, ins, *out)
                continue
            out._data = y if type(y) is _ndarray else _as_array(op, y)
        return [t._data for t in self.outs]

    def backward(self, gys):
        """The recorded bprops in reverse order on the output gradients ``gys`` (Algorithm 6.6 with its order and
        its grad_table fixed at capture); one gradient per node input (arguments, then parameters)."""
        g = [None] * self.nslots
        owned = [False] * self.nslots
        for s, gy in zip(self.out_slots, gys):
            if s is not None and gy is not None:
                _add(g, owned, s, gy)
        check = not self.checked
        for op, fast, outs, targets in self.bsteps:
            if fast is not None:
                gy = g[outs[0]]
                if gy is None:
                    continue
                g[outs[0]] = None
                gxs = fast(op, gy)
                if type(gxs) is not tuple:
                    gxs = (gxs,)
            else:
                ogs = [g[s] for s in outs]
                if all(x is None for x in ogs):
                    continue
                for s in outs:
                    g[s] = None
                gxs = steps.bprop_arrays(op, ogs)
            if check and len(gxs) != len(op.inputs):
                raise steps.count_error(op, gxs, op.inputs)
            for i, s, dt, x in targets:
                gx = gxs[i]
                if gx is None:
                    continue
                if check and gx.shape != x._data.shape:
                    raise steps.shape_error(op, i, gx, x)
                if gx.dtype is not dt and gx.dtype != dt:
                    gx = gx.astype(dt)
                cur = g[s]
                if cur is None:
                    g[s] = gx
                elif owned[s]:
                    cur += gx
                else:
                    g[s] = cur + gx
                    owned[s] = True
        self.checked = True
        return tuple([g[s] for s in self.in_slots])


def _add(g, owned, s, gy):
    cur = g[s]
    if cur is None:
        g[s] = gy
    else:
        g[s] = cur + gy
        owned[s] = True


def _as_array(op, y):
    return np.asarray(y) if op.xp is np else y


def _general_forward(fwd, op, ins, out, extra):
    binds, multi = extra
    for name, pos, t, shape in binds:  # settings that are a slot's array (or its reshape): this call's array
        a = t._data if shape is None else t._data.reshape(shape)
        if pos is not None:  # inside a tuple setting (an index key)
            v = getattr(op, name)
            a = type(v)([a if i == pos else e for i, e in enumerate(v)])
        setattr(op, name, a)
    arrays = [t._data for t in ins]
    if op.device_index:
        with use_device(op.device_index):
            y = fwd(op, *arrays)
    else:
        y = fwd(op, *arrays)
    if multi:
        for t, a in zip(out, y):
            t._data = a if type(a) is _ndarray else _as_array(op, a)
    else:
        out._data = y if type(y) is _ndarray else _as_array(op, y)


def _outer_objects(fn):
    """The ids of the tensors and modules ``fn`` reads from its closure cells and its globals (a replay reads the
    ones it was recorded with: rebinding such a name starts a new trace)."""
    code, out = getattr(fn, "__code__", None), []
    if code is None:
        return ()
    for cell in fn.__closure__ or ():
        try:
            v = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(v, Tensor) or _is_module(v):
            out.append(id(v))
    g = fn.__globals__
    for name in code.co_names:
        v = g.get(name)
        if isinstance(v, Tensor) or _is_module(v):
            out.append(id(v))
    return tuple(out)


def _is_module(v) -> bool:
    return isinstance(getattr(v, "_parameters", None), dict) and hasattr(v, "training")  # an nn.Module (duck-typed)


class _Replayed(Function):
    """One replayed call as a single graph node: inputs are the tensor arguments and the parameters."""

    plan = None
    call_args = None

    def forward(self, *arrays):
        plan = self.plan
        with plan.lock:
            plan.owner = self
            outs = plan.forward(arrays)
        return tuple(outs) if len(outs) > 1 else outs[0]

    def backward_array(self, *gys):
        plan = self.plan
        with plan.lock:
            if plan.owner is not self:
                raise RuntimeError(
                    "capture: this call's intermediate values were overwritten by a later call of the same captured "
                    "function (a replay keeps one call's values, like a CUDA graph's static buffers); run backward "
                    "before calling the function again"
                )
            gxs = plan.backward(gys) + (None,) * len(plan.value_params)
        return tuple([gx if need else None for gx, need in zip(gxs, self.needs_input_grad)])

    def backward(self, *gys):
        """create_graph: the gradient recorded as a graph, by running the function eagerly again."""
        from .engine import grad

        outs = self.plan.fn(*self.call_args)
        outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
        pairs = [(o, gy) for o, gy, d in zip(outs, gys, self.plan.diff_out) if d and gy is not None]
        wanted = [x for x, need in zip(self.inputs, self.needs_input_grad) if need]
        grads = iter(grad([o for o, _ in pairs], wanted, [gy for _, gy in pairs], create_graph=True,
                          allow_unused=True))
        return tuple([next(grads) if need else None for need in self.needs_input_grad])
