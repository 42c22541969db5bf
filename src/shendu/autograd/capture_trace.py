"""Recording one call of a function for ``autograd.capture``, and checking that two recorded calls agree.

A call is recorded as the program of its ops (textbook 6.5.1: the computational graph is a program of
operations on variables): each ``Function`` call with the slots it read and wrote, where a slot is an argument
of the call, the output of an earlier op, or an *external* tensor the function reached by itself (a parameter,
a buffer, a constant). What a replay of that program would get wrong is refused, loudly, while recording: a host
read (``item``, ``bool``...) that could steer Python's control flow, an in-place update, an optimizer step, a
backward pass, a tensor hook, a random draw, a module buffer changed (batch norm's running statistics in training
mode). Two recorded calls are then compared (``match``): the same ops with the same settings on the same
shapes, the same external tensors, and constants that agree; a value computed outside the ops, which a replay
would freeze, is refused.
"""
from __future__ import annotations

from ..backend import namespace_of
from ..backend.random import rng_marks
from .function import Function
from .grad_mode import set_tracer
from .tensor import Tensor

#: Attributes ``Function.__call__`` and the engine set on a node; not part of an op's settings.
_NODE_FIELDS = frozenset(("inputs", "needs_input_grad", "saved", "_versions", "_seq", "_out_meta", "_out_hooks",
                          "xp", "device_index"))


class CaptureError(RuntimeError):
    """A function cannot be captured: something it does would not be repeated by a replay of its ops."""


def _is_array(v) -> bool:
    return hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, Tensor) and hasattr(v, "__len__")


class Trace:
    """One recorded call. ``steps``: ``("op", fn, settings, in_keys, out_keys, multi, binds)``,
    ``("alias", src_key, out_key)`` or ``("check", key, shape, check)`` (an input check a replay runs again: index
    ranges, ``var >= 0``); a bind is ``(setting, position in a tuple setting or None, key, shape or None)``; a key
    is ``("in", i)`` (argument i), ``("v", n)`` (the n-th value an op or a ``detach`` produced) or ``("ext", m)``
    (the m-th external tensor, in ``externals``)."""

    def __init__(self, args, lenient=False):
        self.args = args
        self.lenient = lenient  # on a refusal: stop recording and let the call go on eagerly (sd.compile)
        self.refused = None  # the first refusal's message, in lenient mode
        self.slot = {}  # id(tensor) -> key
        self.by_array = {}  # id(array) -> key of a tensor holding it (op settings bound to a slot's array)
        self.keep = []  # every tensor and array seen: their ids stay unique while the trace lives
        self.steps = []
        self.values = []  # the tensors behind ("v", n)
        self.externals = []
        self.ext_meta = []  # (shape, dtype, requires_grad) of each external when the call read it
        self.made_ids = set()
        self.modules = {}  # id(module) -> (module, its buffers' (array id, version) when first entered)
        self.rng = rng_marks()  # the generators' state after the last op: a draw inside an op is replayed
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                self._name(a, ("in", i))

    # --- recording (called from Function.__call__, Tensor.detach, the factories, Module.__call__) -------------
    def _name(self, t, key):
        self.slot[id(t)] = key
        self.by_array[id(t._data)] = key
        self.keep.append(t)
        self.keep.append(t._data)

    def key_of(self, t):
        k = self.slot.get(id(t))
        if k is None:
            k = ("ext", len(self.externals))
            self.externals.append(t)
            self.ext_meta.append((t._data.shape, t._data.dtype, t._requires_grad))
            self._name(t, k)
        return k

    def _new_value(self, t):
        k = ("v", len(self.values))
        self.values.append(t)
        self._name(t, k)
        return k

    def before_op(self):
        if rng_marks() != self.rng:
            self._random_draw()

    def _random_draw(self):
        self.refuse("a random draw outside the ops (sd.randn, alpha_dropout, a mask drawn by hand...)")

    def op(self, fn, inputs, settings, out):
        self.rng = rng_marks()
        ins = tuple([self.key_of(x) for x in inputs])
        binds = []
        for name, v in settings.items():  # an array setting that is a slot's array (or a reshape of it) is re-read
            if name in _NODE_FIELDS:  # at every replay, also inside a tuple setting (an index key x[:, i])
                continue
            for pos, a in ([(None, v)] if _is_array(v) else enumerate(v) if type(v) in (tuple, list) else ()):
                if _is_array(a):
                    k, shape = self.slot_of_array(a)
                    if k is not None:
                        binds.append((name, pos, k, shape))
        multi = type(out) is tuple
        outs = tuple([self._new_value(y) for y in (out if multi else (out,))])
        self.steps.append(("op", fn, settings, ins, outs, multi, tuple(binds)))

    def pure(self, name, inputs, out, kw):
        """``out`` = ``xp.<name>(*inputs, **kw)``, computed outside any op (no gradient): recorded as a ``_Pure``
        op, so a replay computes it again."""
        self.before_op()
        op = _Pure()
        op.name, op.kw, op.xp = name, kw, namespace_of(out._data)
        self.op(op, inputs, {"name": name, "kw": kw}, out)

    def slot_of_array(self, a):
        """(key, shape) of the slot whose array ``a`` is (shape None) or a reshape of, else (None, None)."""
        k = self.by_array.get(id(a))
        if k is not None:
            return k, None
        k = self._reshaped_slot(a)
        return (k, tuple(a.shape)) if k is not None else (None, None)

    def check(self, arr, fn):
        """Library code checked ``arr`` (a slot's array) on the host with ``fn``: a replay runs ``fn`` again here."""
        k, shape = self.slot_of_array(arr)
        if k is not None:
            self.steps.append(("check", k, shape, fn))

    def _reshaped_slot(self, v):
        """The key of the slot whose array ``v`` is a reshape of (a view of all of it, in the same order), or None
        (cross_entropy hands its op ``target.reshape(-1)``)."""
        b = getattr(v, "base", None)
        while b is not None:
            k = self.by_array.get(id(b))
            if k is not None:
                return k if _same_elements(v, b) else None
            b = getattr(b, "base", None)
        return None

    def alias(self, src, out):
        self.steps.append(("alias", self.key_of(src), self._new_value(out)))

    def made(self, t):
        self.made_ids.add(id(t))
        self.keep.append(t)

    def module(self, m):
        if id(m) not in self.modules:
            if m.__dict__.get("_forward_hooks"):
                self.refuse(f"a forward hook of {type(m).__name__} (Python code a replay would not run)")
            self.modules[id(m)] = (m, _buffer_state(m))

    def refuse(self, what):
        msg = (f"capture: {what} inside the captured function; a replay runs only the recorded ops and would skip "
               "it. Move it out of the function (or call the function uncaptured).")
        if not self.lenient:
            raise CaptureError(msg)
        if self.refused is None:
            self.refused = msg
            set_tracer(None)  # the rest of the call runs eagerly, unrecorded

    def slim(self):
        """Keep what the comparison with the next call reads (``match``: kinds, op types and settings, keys, the
        values' shapes and dtypes, the external tensors), and drop the call's arrays: a first trace waits for the
        second call, and must not hold a whole set of activations meanwhile."""
        self.values = [(v._data.shape, v._data.dtype) for v in self.values]
        self.steps = [(s[0], type(s[1])) + s[2:] if s[0] == "op" else s for s in self.steps]
        self.keep, self.slot, self.by_array, self.args = [], {}, {}, None

    # --- the end of the call ----------------------------------------------------------------------------------
    def finish(self, result):
        """Checks at the end of the call: no random draw outside the ops, no module buffer changed, outputs made by
        ops."""
        self.before_op()
        for m, before in self.modules.values():
            after = _buffer_state(m)
            for name, state in before.items():
                if after.get(name) != state:
                    self.refuse(f"{type(m).__name__} updated its buffer '{name}' (batch norm in training mode "
                                "updates its running statistics)")
        outs = result if isinstance(result, (tuple, list)) else (result,)
        keys = []
        for i, y in enumerate(outs):
            if not isinstance(y, Tensor):
                raise CaptureError(f"capture: the function must return a Tensor or a tuple/list of Tensors; "
                                   f"output {i} is {type(y).__name__}")
            k = self.slot.get(id(y))
            if k is None or k[0] != "v":
                raise CaptureError(f"capture: output {i} (shape {tuple(y.shape)}) was not computed by an op inside "
                                   "the function (an argument or an outside tensor returned as it is)")
            keys.append(k)
        return tuple(keys)


def _same_elements(v, s) -> bool:
    """``v`` holds exactly ``s``'s elements in ``s``'s order: both C-contiguous, same size, dtype and first byte."""
    try:
        if v.size != s.size or v.dtype != s.dtype or not (v.flags.c_contiguous and s.flags.c_contiguous):
            return False
        return _address(v) == _address(s)
    except AttributeError:
        return False


def _address(a):
    ai = getattr(a, "__array_interface__", None)
    return ai["data"][0] if ai is not None else a.data.ptr  # NumPy; CuPy


class _Pure(Function):
    """A function of its inputs' arrays without a gradient (a comparison, argmax), as a node of a recorded
    program: ``xp.<name>(*arrays, **kw)``."""

    name, kw = None, None

    def forward(self, *arrays):
        return getattr(self.xp, self.name)(*arrays, **self.kw)


def module_state(m):
    """What a replay of ``m``'s recorded ops assumes about ``m``: its mode, which tensors are its parameters and
    buffers, whether it has forward hooks. A change starts a new trace."""
    return (m.training, tuple([id(p) for p in m._parameters.values()]), tuple([id(b) for b in m._buffers.values()]),
            bool(m.__dict__.get("_forward_hooks")))


def _buffer_state(m):
    bufs = getattr(m, "_buffers", None) or {}
    return {n: (id(b._data), b._version) for n, b in bufs.items() if isinstance(b, Tensor)}


# --- comparing two recorded calls ------------------------------------------------------------------------------
def params_changed(t1: Trace, t2: Trace) -> bool:
    """True when a tensor both calls read changed shape, dtype or requires_grad in between (a parameter was
    replaced or frozen): the first call no longer describes the program, the second becomes the first."""
    for x1, meta1, x2, meta2 in zip(t1.externals, t1.ext_meta, t2.externals, t2.ext_meta):
        if x1 is x2 and meta1 != meta2:
            return True
    return False


def match(t1: Trace, t2: Trace, outs1, outs2) -> list:
    """Refuse unless the two calls ran the same program (``t1`` slimmed); returns, per external of ``t2``, "param"
    (the same tensor in both calls: read afresh at every replay) or "const" (a factory-made constant both calls
    agree on)."""
    if len(t1.steps) != len(t2.steps) or outs1 != outs2:
        raise CaptureError(f"capture: the two traced calls ran different programs ({len(t1.steps)} and "
                           f"{len(t2.steps)} ops): the function's control flow depends on its data")
    for i, (s1, s2) in enumerate(zip(t1.steps, t2.steps)):
        if s1[0] != s2[0] or (s1[0] != "op" and s1[1:3] != s2[1:3]):
            raise CaptureError(f"capture: step {i} differs between the two traced calls")
        if s1[0] == "op":
            _match_op(i, s1, s2)
    for (shape, dtype), v2 in zip(t1.values, t2.values):
        d2 = v2._data
        if shape != d2.shape or dtype != d2.dtype:
            raise CaptureError(f"capture: a value's shape/dtype differs between the traced calls "
                               f"({shape} {dtype} vs {d2.shape} {d2.dtype})")
    return [_match_external(t1, t2, m) for m in range(len(t2.externals))]


def _match_op(i, s1, s2):
    _, f1, set1, ins1, outs1, multi1, binds1 = s1
    _, f2, set2, ins2, outs2, multi2, binds2 = s2
    name = type(f2).__name__
    if f1 is not type(f2) or ins1 != ins2 or len(outs1) != len(outs2) or binds1 != binds2:
        raise CaptureError(f"capture: op {i} ({name}) differs between the two traced calls (other op, inputs or "
                           "settings): the function's control flow depends on its data")
    bound = {(b[0], b[1]) for b in binds2}
    for k in set(set1) | set(set2):
        if k in _NODE_FIELDS or (k, None) in bound:
            continue
        a, b = _unbound(k, set1.get(k), bound), _unbound(k, set2.get(k), bound)
        if _holds_array(a) or _holds_array(b):
            raise CaptureError(f"capture: op {i} ({name}) holds an array setting '{k}' computed outside the ops "
                               "(from tensor data); a replay would reuse the traced value")
        try:
            same = bool(a == b)
        except Exception:  # containers of arrays and the like
            same = False
        if not same:
            raise CaptureError(f"capture: op {i} ({name}) has setting '{k}' = {a!r} in one traced call and {b!r} in "
                               "the other; a replay would freeze it (pass it as a tensor, or keep it fixed)")


def _unbound(name, v, bound):
    """A tuple setting with its bound positions blanked (they are re-read at every replay)."""
    if type(v) in (tuple, list) and any((name, i) in bound for i in range(len(v))):
        return tuple([None if (name, i) in bound else a for i, a in enumerate(v)])
    return v


def _holds_array(v) -> bool:
    return _is_array(v) or (type(v) in (tuple, list) and any(_holds_array(a) for a in v))


def _match_external(t1, t2, m):
    x1, x2 = t1.externals[m], t2.externals[m]
    if x1 is x2:
        return "param"
    if id(x1) in t1.made_ids and id(x2) in t2.made_ids and not x2._requires_grad:
        d1, d2 = x1._data, x2._data
        if d1.shape == d2.shape and d1.dtype == d2.dtype and bool((d1 == d2).all()):
            return "const"
        raise CaptureError(f"capture: a constant of shape {tuple(d2.shape)} made inside the function differs "
                           "between the two traced calls (a Python number or a factory argument that changes); "
                           "pass it as an argument instead")
    raise CaptureError(f"capture: an op reads a tensor of shape {tuple(x2.shape)} that was computed inside the "
                       "function outside the ops (from tensor data, e.g. a mask or an index array), or a tensor "
                       "that changes between calls; a replay would reuse the traced value")

