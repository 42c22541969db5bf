"""Activation checkpointing (textbook 12.1.2: recomputing a value can beat storing and re-reading it).

``checkpoint(fn, *args)`` runs ``fn(*args)`` without recording its graph (none of fn's intermediate
activations are kept) and records one node instead; in backward that node re-runs ``fn`` with the graph on,
back-propagates through the recomputation and hands the gradients on. Gradients equal those of the plain run;
the random state (dropout masks) is restored for the recomputation (``preserve_rng_state``); a device generator
that cannot report its state (CuPy's) has its draws recorded in forward and replayed instead.

Parameters: the gradients reach the parameters of ``fn`` when ``fn`` is a Module, a bound method of a Module,
or when they are passed as ``params=``; those are inputs of the node, so ``sd.grad`` and hooks see them as for
any op. Other leaf tensors that ``fn`` reads from a closure get their gradient accumulated into ``.grad`` during
backward (as PyTorch's reentrant checkpoint; ``sd.grad`` does not report them).

``create_graph=True`` (double backward) works: the recomputation then runs on the original input tensors, so
the returned gradients are themselves differentiable (tested with a Hessian-vector product)."""
from __future__ import annotations

from ..autograd import enable_grad, no_grad
from ..autograd.engine import grad as _grad
from ..autograd.function import Function
from ..autograd.tensor import Tensor, _wrap
from ..backend import CPU, device_of, get_generator, get_rng_state, set_rng_state

__all__ = ["checkpoint", "checkpoint_sequential"]


def _module_params(fn):
    from ..nn.module import Module

    owner = fn if isinstance(fn, Module) else getattr(fn, "__self__", None)
    if isinstance(owner, Module):
        return [p for p in owner.parameters() if p.requires_grad]
    return []


def _other_leaves(outs, known):
    """Leaf tensors requiring grad that the recomputed graph reads, other than ``known`` (ids)."""
    seen, found, stack = set(), [], [o._grad_fn for o in outs if o._grad_fn is not None]
    while stack:
        fn = stack.pop()
        if id(fn) in seen or fn.inputs is None:
            continue
        seen.add(id(fn))
        for x in fn.inputs:
            if x._grad_fn is not None:
                stack.append(x._grad_fn)
            elif x._requires_grad and id(x) not in known:
                known.add(id(x))
                found.append(x)
    return found


class _Tape:
    """A device generator stand-in that records every draw in forward and replays them in the recomputation
    (for generators that cannot report their state, e.g. CuPy's)."""

    def __init__(self, gen):
        self.gen, self.draws, self.pos, self.replay = gen, [], 0, False

    def __getattr__(self, name):
        f = getattr(self.gen, name)
        if not callable(f):
            return f

        def draw(*a, **k):
            if self.replay:
                r = self.draws[self.pos]
                self.pos += 1
                return r
            r = f(*a, **k)
            self.draws.append(r)
            return r

        return draw


class _Taped:
    """Install the tapes as the generators of their devices for the duration of a block."""

    def __init__(self, tapes, replay):
        self.tapes, self.replay = tapes, replay

    def __enter__(self):
        from ..backend import random as backend_random

        self.prev = {}
        for dev, tape in self.tapes.items():
            self.prev[dev] = backend_random._DEVICE_GENS.get(dev)
            tape.replay, tape.pos = self.replay, 0
            backend_random._DEVICE_GENS[dev] = tape
        return self

    def __exit__(self, *exc):
        from ..backend import random as backend_random

        for dev, g in self.prev.items():
            backend_random._DEVICE_GENS[dev] = g
        return False


class _Checkpoint(Function):
    def __init__(self, fn, template, n_args, kwargs, rng, tapes=None):
        self.fn, self.template, self.n_args, self.kwargs, self.rng = fn, template, n_args, kwargs, rng
        self.tapes = tapes or {}
        self.multi = False

    def _call(self, tensors):
        it = iter(tensors)
        args = [next(it) if t is None else t for t in self.template]
        return self.fn(*args, **self.kwargs)

    def forward(self, *arrays):
        with no_grad(), _Taped(self.tapes, replay=False):
            out = self._call([_wrap(a) for a in arrays[:self.n_args]])
        if isinstance(out, tuple):
            self.multi = True
            return tuple(o._data for o in out)
        return out._data

    def _recompute(self, ins):
        now = get_rng_state() if self.rng is not None else None
        try:
            if self.rng is not None:
                set_rng_state(self.rng)
            with enable_grad(), _Taped(self.tapes, replay=True):
                out = self._call(ins)
        finally:
            if now is not None:
                set_rng_state(now)
        return list(out) if self.multi else [out]

    def _grads(self, ins, gys, create_graph):
        outs = self._recompute(ins)
        params = list(self.inputs[self.n_args:])
        targets = [t for t in ins + params if t._requires_grad]
        pairs = [(o, g) for o, g in zip(outs, gys) if o._requires_grad]
        if not pairs:
            return [None] * len(self.inputs)
        outs_, gys_ = [o for o, _ in pairs], [g for _, g in pairs]
        others = _other_leaves(outs_, {id(t) for t in targets})
        wrt = targets + others
        got = _grad(outs_, wrt, gys_, create_graph=create_graph, allow_unused=True) if wrt else ()
        for x, g in zip(others, got[len(targets):]):  # closure leaves: accumulate, as a reentrant checkpoint
            if g is not None:
                x.grad = g.detach() if x.grad is None else x.grad + g.detach()
        by_id = {id(t): g for t, g in zip(targets, got)}
        return [by_id.get(id(t)) for t in ins + params]

    def backward(self, *gys):  # graph mode (create_graph=True): recompute on the original inputs
        ins = list(self.inputs[:self.n_args])
        return tuple(self._grads(ins, list(gys), True))

    def backward_array(self, *gys):
        ins = []
        for t in self.inputs[:self.n_args]:
            c = _wrap(t._data)
            if t._requires_grad:
                c.requires_grad_(True)
            ins.append(c)
        gs = self._grads(ins, [_wrap(g) for g in gys], False)
        return tuple(None if g is None else g._data for g in gs)


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state: bool = True, params=None, **kwargs):
    """``function(*args, **kwargs)`` with its activations recomputed in backward instead of stored.

    Tensor ``args`` (and ``params``, default: the parameters of a Module ``function``) are the node's inputs;
    other args are passed through. Returns what ``function`` returns (a Tensor or a tuple of Tensors)."""
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    template = [None if isinstance(a, Tensor) else a for a in args]
    tensors = [a for a in args if isinstance(a, Tensor)]
    ps = _module_params(function) if params is None else [p for p in params if p.requires_grad]
    rng, tapes = None, {}
    if preserve_rng_state:
        for t in tensors:  # make the inputs' device generators exist, so that their state is saved
            dev = device_of(t._data)
            g = get_generator(dev)
            if dev is not CPU and not hasattr(g, "get_state") and dev not in tapes:
                tapes[dev] = _Tape(g)  # no state to restore: record the draws and replay them
        rng = get_rng_state()
    node = _Checkpoint(function, template, len(tensors), kwargs, rng, tapes)
    return node(*tensors, *ps)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, preserve_rng_state: bool = True):
    """Run a Sequential (or list of modules) in ``segments`` checkpointed chunks (PyTorch's name): only the
    chunk boundaries are stored, each chunk is recomputed in backward. The last chunk runs normally."""
    mods = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be >= 1, got {segments}")
    size = max(1, -(-len(mods) // segments))
    chunks = [mods[i:i + size] for i in range(0, len(mods), size)]
    x = input
    for i, chunk in enumerate(chunks):
        if i == len(chunks) - 1:
            for m in chunk:
                x = m(x)
            break
        ps = [p for m in chunk for p in m.parameters() if p.requires_grad]

        def run(t, chunk=chunk):
            for m in chunk:
                t = m(t)
            return t

        x = checkpoint(run, x, preserve_rng_state=preserve_rng_state, params=ps)
    return x
