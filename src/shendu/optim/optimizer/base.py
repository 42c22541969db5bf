"""``Optimizer`` base class (textbook 8.3-8.5): parameter groups, per-parameter state, zero_grad, checked
state_dict / load_state_dict (parameters by index over all groups, as PyTorch), step hooks.
"""
from __future__ import annotations

import numbers
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ...autograd.grad_mode import enable_grad
from ...autograd.tensor import Tensor
from ...backend import device_of, is_array, namespace_of
from .buffers import _placed, required
from .hooks import RemovableHandle, _with_step_hooks


class Optimizer:
    """Base optimizer: ``Optimizer(params, defaults)``; params is an iterable of Tensors or of dicts
    ``{"params": [...], <option>: value}`` (parameter groups with their own options).

    ``register_step_pre_hook(hook)`` / ``register_step_post_hook(hook)`` (PyTorch's names): ``hook(optimizer,
    args, kwargs)`` runs before / after every ``step(*args, **kwargs)`` (a pre hook may return ``(new_args,
    new_kwargs)``); both return a handle with ``.remove()``. Constraints and proximal steps attach this way.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if callable(step) and not getattr(step, "_shendu_step_hooks", False):
            cls.step = _with_step_hooks(step)

    def register_step_pre_hook(self, hook):
        """Run ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`` before each ``step``;
        returns a handle whose ``.remove()`` unregisters it."""
        return self._add_step_hook("_step_pre_hooks", hook)

    def register_step_post_hook(self, hook):
        """Run ``hook(optimizer, args, kwargs) -> None`` after each ``step`` (e.g. a projection onto a constraint
        set, textbook 7.2); returns a handle whose ``.remove()`` unregisters it."""
        return self._add_step_hook("_step_post_hooks", hook)

    def _add_step_hook(self, key, hook):
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}.register_{key[1:-6]}_hook: hook must be callable "
                            f"(optimizer, args, kwargs), got {type(hook).__name__}")
        hooks = self.__dict__.get(key)
        if hooks is None:
            hooks = self.__dict__[key] = OrderedDict()
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or dicts, "
                            f"got a single Tensor of shape {params.shape}; pass [tensor]")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group):
        """Add a group ``{"params": [...], options...}``; missing options take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{type(self).__name__}.add_param_group: expected a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{type(self).__name__}: params must be an ordered collection, not a set")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, got {type(p).__name__}")
            if not np.issubdtype(p._data.dtype, np.floating) and p._data.dtype.name != "bfloat16":
                raise TypeError(f"{type(self).__name__}: can only optimize floating-point Tensors, got {p.dtype}")
        group["params"] = params
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"{type(self).__name__}: parameter group didn't specify a value of required "
                                 f"option {k!r}")
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or any(id(p) in seen for p in params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one parameter group "
                             "(or twice in one)")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True):
        """Reset gradients: ``p.grad = None`` (default) or fill them with zeros."""
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad._data[...] = 0

    def _params_with_grad(self, group):
        """The parameter loop of every first-order optimizer: yields ``(g, d, xp, st)`` for each parameter of
        ``group`` that has a gradient - its gradient array g, its data array d (the caller updates it in place),
        their array namespace xp and its state dict st (created empty on first use) - and bumps the parameter's
        ``_version`` once the caller's loop body for it has run (autograd's in-place check sees the update)."""
        state = self.state
        for p in group["params"]:
            gt = p.grad
            if gt is None:
                continue
            d = p._data
            st = state.get(p)
            if st is None:
                st = state[p] = {}
            yield gt._data, d, namespace_of(d), st
            p._version += 1

    def _eval_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure=None):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """``{"state": {index: {name: array or number}}, "param_groups": [{options, "params": [index]}]}``
        with copies of all state arrays, so saving and loading later resumes exactly."""
        index, groups, i = {}, [], 0
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index[id(p)] = i
                ids.append(i)
                i += 1
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, st in self.state.items():
            if id(p) not in index:
                continue
            state[index[id(p)]] = {k: (v.copy() if is_array(v) else v)
                                   for k, v in st.items() if not k.startswith("_")}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load options and state saved by ``state_dict()`` (arrays are copied and cast to each param's dtype, onto
        each param's device: state saved or loaded on the host follows a parameter on a GPU)."""
        name = type(self).__name__
        self._check_state_dict(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: saved state has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        params = []
        for g, sg in zip(self.param_groups, saved_groups):
            if len(sg["params"]) != len(g["params"]):
                raise ValueError(f"{name}.load_state_dict: a saved parameter group has {len(sg['params'])} "
                                 f"parameters, the matching group here has {len(g['params'])}")
            params.extend(g["params"])
        for g, sg in zip(self.param_groups, saved_groups):
            for k, v in sg.items():
                if k == "params":
                    continue
                if isinstance(v, list) and isinstance(self.defaults.get(k), tuple):
                    v = tuple(v)
                g[k] = v
        self.state = {}
        for key, st in state_dict["state"].items():
            p = params[int(key)]
            dev = device_of(p._data)
            new = {}
            for k, v in st.items():
                if isinstance(v, Tensor):
                    v = v._data
                if isinstance(v, (list, tuple)):
                    v = [_placed(e._data if isinstance(e, Tensor) else e, None, dev)
                         if isinstance(e, Tensor) or is_array(e) else e for e in v]
                if is_array(v):
                    if v.ndim == 0 and k == "step":
                        v = v.item()
                    else:
                        if v.shape != p._data.shape and k not in self._free_shape_state \
                                and self._free_shape_state != "*":
                            raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {key} has shape "
                                             f"{v.shape}, the parameter has shape {p._data.shape}")
                        same = v.shape == p._data.shape and np.issubdtype(v.dtype, np.floating)
                        v = _placed(v, p._data.dtype if same else v.dtype, dev)
                elif isinstance(v, np.generic):
                    v = v.item()
                new[k] = v
            self.state[p] = new
        self._after_load()

    def _check_state_dict(self, state_dict):
        """Raise a TypeError/ValueError naming the entry unless `state_dict` has the layout `state_dict()` writes,
        options of the types this optimizer uses and state only for parameters it has (before anything is set)."""
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{who}: expected a dict with 'state' and 'param_groups' (optimizer.state_dict()), "
                            f"got {type(state_dict).__name__}")
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"{who}: state_dict has no {key!r} entry (keys: {sorted(map(str, state_dict))}); "
                                 "expected what optimizer.state_dict() returns")
        groups, state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, Mapping) for g in groups):
            raise TypeError(f"{who}: state_dict['param_groups'] must be a list of dicts, got {groups!r:.100}")
        if not isinstance(state, Mapping):
            raise TypeError(f"{who}: state_dict['state'] must be a dict index -> state, got {type(state).__name__}")
        for i, (g, sg) in enumerate(zip(self.param_groups, groups)):
            ids = sg.get("params")
            if not isinstance(ids, (list, tuple)) or not all(isinstance(j, numbers.Integral) for j in ids):
                raise TypeError(f"{who}: state_dict['param_groups'][{i}]['params'] must be a list of parameter "
                                f"indices, got {ids!r:.100}")
            for k, v in sg.items():
                cur = g.get(k)
                if k == "params" or cur is None:
                    continue
                if isinstance(cur, bool):
                    ok = isinstance(v, (bool, np.bool_))
                elif isinstance(cur, numbers.Real):
                    ok = isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
                elif isinstance(cur, tuple):
                    ok = isinstance(v, (list, tuple)) and len(v) == len(cur)
                else:
                    ok = True
                if not ok:
                    raise TypeError(f"{who}: state_dict['param_groups'][{i}][{k!r}] is {v!r:.60}; expected a value "
                                    f"like this optimizer's {cur!r}")
        n = sum(len(g["params"]) for g in self.param_groups)
        for key, st in state.items():
            ok = (isinstance(key, numbers.Integral) and not isinstance(key, bool)) or (isinstance(key, str)
                                                                                     and key.isdigit())
            if not ok or not 0 <= int(key) < n:
                raise ValueError(f"{who}: state_dict['state'] has an entry for parameter {key!r}; expected indices "
                                 f"0..{n - 1} of this optimizer's {n} parameters")
            if not isinstance(st, Mapping):
                raise TypeError(f"{who}: state_dict['state'][{key!r}] must be a dict of state values, "
                                f"got {type(st).__name__}")

    _free_shape_state = ()

    def _after_load(self):
        pass

    def __getstate__(self):
        return self.__dict__

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
